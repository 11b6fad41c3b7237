#!/usr/bin/env bash
# Flash, RAM and instructions per sample of the firmware engine on Cortex-M4F (QEMU mps2-an386):
# exports the ISI- and SHD-shaped models of bench/firmware/make_models.cpp in float, int16 and
# int8, builds examples/firmware/run_model.cpp for each with the toolchain file (-Os), reports
# arm-none-eabi-size's figures and runs it on QEMU with -icount shift=0 (1 ns per instruction;
# SysTick at 25 MHz = 40 instructions a tick). Writes <out>/firmware_report.csv.
# Usage: scripts/firmware-report.sh [out folder]   (needs arm-none-eabi-gcc, qemu-system-arm)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/firmware_report}
mkdir -p "$out"
g++ -std=c++20 -O2 -DXTENSOR_USE_XSIMD -fopenmp -I"$root/include" \
    "$root/bench/firmware/make_models.cpp" -o "$out/make_models"
"$out/make_models" "$out/models" | tee "$out/activity.txt"
csv=$out/firmware_report.csv
echo "model,format,text_bytes,data_bytes,bss_bytes,flash_bytes,ram_bytes,instructions_per_sample,steps" > "$csv"
for model in isi shd shd_sparse; do
  for format in float int16 int8; do
    build=$out/build_${model}_${format}
    cmake -S "$root/examples/firmware" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/arm-none-eabi-cortex-m4.cmake" \
          -DCMAKE_BUILD_TYPE=MinSizeRel -DSPIKEGRAD_FIRMWARE_APP="$root/examples/firmware/run_model.cpp" \
          -DSPIKEGRAD_MODEL_DIR="$out/models/${model}_${format}" > "$build.log"
    cmake --build "$build" >> "$build.log"
    read -r text data bss _ < <(arm-none-eabi-size "$build/spikegrad_firmware.elf" | tail -1)
    run=$(timeout 300 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native \
          -icount shift=0 -kernel "$build/spikegrad_firmware.elf")
    echo "$run" > "$build.run.txt"
    instructions=$(echo "$run" | sed -n 's/^instructions per sample: \([0-9]*\).*/\1/p')
    steps=$(echo "$run" | sed -n 's/.*, \([0-9]*\) steps,.*/\1/p')
    echo "$model,$format,$text,$data,$bss,$((text + data)),$((data + bss)),$instructions,$steps" >> "$csv"
  done
done
column -s, -t "$csv"
