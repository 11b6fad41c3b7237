// A firmware program over one exported model: runs the recorded sample of sample.hpp
// through it (app_model.hpp: `namespace model = <the model's namespace>`), prints the
// prediction, and counts the instructions of one sample with SysTick. Under QEMU with
// -icount shift=0 each instruction takes 1 ns of virtual time and the mps2-an386 SysTick counts
// at 25 MHz, so instructions = 40 ticks; a calibration loop of known length checks that factor.
#include "app_model.hpp"
#include "sample.hpp"

#include <stdint.h>
#include <stdio.h>

namespace {

volatile uint32_t& syst_csr = *reinterpret_cast<volatile uint32_t*>(0xE000E010u);
volatile uint32_t& syst_rvr = *reinterpret_cast<volatile uint32_t*>(0xE000E014u);
volatile uint32_t& syst_cvr = *reinterpret_cast<volatile uint32_t*>(0xE000E018u);

void start_ticks() {
    syst_rvr = 0xFFFFFFu;
    syst_cvr = 0;
    syst_csr = 0x5u;  // enabled, processor clock, no interrupt
}
uint32_t ticks() { return syst_cvr; }
uint32_t elapsed(uint32_t from, uint32_t to) { return (from - to) & 0xFFFFFFu; }

model::network::state state;

uint32_t run_sample() {
    model::network::reset(state);
    for (size_t t = 0; t < sample::n_steps; ++t)
        model::network::push(state, sample::units + sample::offsets[t],
                             sample::offsets[t + 1] - sample::offsets[t]);
    return static_cast<uint32_t>(model::network::predict(state));
}

}  // namespace

int main() {
    start_ticks();
    // Calibration: 2 instructions (subs, bne) per iteration.
    uint32_t n = 1000000;
    const uint32_t c0 = ticks();
    asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    const uint32_t calibration = elapsed(c0, ticks());
    const uint32_t t0 = ticks();
    const uint32_t label = run_sample();
    const uint32_t sample_ticks = elapsed(t0, ticks());
    printf("model: %u -> %u, %u steps, class %u\n", unsigned(model::network::n_inputs),
           unsigned(model::network::n_outputs), unsigned(sample::n_steps), unsigned(label));
    printf("SysTick ticks: calibration loop (2000000 instructions) %lu, one sample %lu\n",
           (unsigned long)calibration, (unsigned long)sample_ticks);
    printf("instructions per sample: %llu (at 40 per tick)\n",
           (unsigned long long)sample_ticks * 40ull);
    return 0;
}
