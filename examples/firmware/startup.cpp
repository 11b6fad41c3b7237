// spikegrad firmware: minimal start-up for a Cortex-M4F under QEMU (mps2-an386) with newlib's
// semihosting library (rdimon): vector table, FPU on, .bss zeroed, static constructors,
// semihosting handles, main(), and exit(status), which QEMU turns into its own exit status.
#include <stdint.h>
#include <stdlib.h>

extern "C" {
extern uint32_t __bss_start__[], __bss_end__[], _stack_top[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
void initialise_monitor_handles();
int main();

// -nostartfiles leaves out crti/crtn: newlib's exit path still calls these.
void _init() {}
void _fini() {}

[[noreturn]] void reset_handler() {
    // CPACR: full access to the coprocessors CP10 and CP11 (the FPU), before any float code.
    *reinterpret_cast<volatile uint32_t*>(0xE000ED88u) |= 0xFu << 20;
    asm volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t* p = __bss_start__; p < __bss_end__; ++p) *p = 0;
    for (auto f = __init_array_start; f < __init_array_end; ++f) (*f)();
    initialise_monitor_handles();
    exit(main());
}

[[noreturn]] void fault_handler() {
    // A fault is a failed run: report it through semihosting's exit.
    _Exit(99);
}

__attribute__((section(".isr_vector"), used)) void* const vector_table[16] = {
    _stack_top,
    reinterpret_cast<void*>(reset_handler),
    reinterpret_cast<void*>(fault_handler),  // NMI
    reinterpret_cast<void*>(fault_handler),  // HardFault
    reinterpret_cast<void*>(fault_handler),  // MemManage
    reinterpret_cast<void*>(fault_handler),  // BusFault
    reinterpret_cast<void*>(fault_handler),  // UsageFault
    nullptr, nullptr, nullptr, nullptr,
    reinterpret_cast<void*>(fault_handler),  // SVC
    nullptr, nullptr,
    reinterpret_cast<void*>(fault_handler),  // PendSV
    reinterpret_cast<void*>(fault_handler),  // SysTick
};
}
