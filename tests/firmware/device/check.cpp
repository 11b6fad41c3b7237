// The firmware run test's program (built for Cortex-M4F and booted on QEMU's mps2-an386 with
// semihosting, and built for the host too): runs the recorded samples of fixture.hpp through
// the exported float, int16 and int8 models and compares with what the host computed. Float:
// every readout membrane bit-identical to the training engine's, and the same predictions.
// Fixed point: membranes equal to the host's run of the same kernels, and within the stated
// bound of the float membranes (mean |error| < 0.1% (int16) / 5% (int8) of max |v|). The exit
// status is the number of failed checks (QEMU returns it).
#include "fixture.hpp"
#include "model_float.hpp"
#include "model_int16.hpp"
#include "model_int8.hpp"

#include <math.h>
#include <stdio.h>
#include <string.h>

namespace {

float float_of(uint32_t bits) {
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

uint32_t bits_of(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

template <class Net>
void push_sample(typename Net::state& s, size_t b, size_t t, const typename Net::value*& v) {
    const size_t row = b * fixture::n_steps + t;
    const uint32_t first = fixture::offsets[row], last = fixture::offsets[row + 1];
    v = Net::push(s, fixture::units + first, last - first);
}

model_float::network::state float_state;
model_int16::network::state int16_state;
model_int8::network::state int8_state;

int check_float() {
    using net = model_float::network;
    int failed = 0;
    size_t mismatches = 0;
    for (size_t b = 0; b < fixture::n_samples; ++b) {
        net::reset(float_state);
        const float* v = nullptr;
        for (size_t t = 0; t < fixture::n_steps; ++t) {
            push_sample<net>(float_state, b, t, v);
            for (size_t i = 0; i < fixture::n_outputs; ++i)
                if (bits_of(v[i]) != fixture::float_bits[(b * fixture::n_steps + t) * 3 + i])
                    ++mismatches;
        }
        const auto p = net::predict(float_state);
        printf("float sample %u: v[T-1] = %08lx %08lx %08lx, class %u (host %d)\n",
                    unsigned(b), (unsigned long)bits_of(v[0]), (unsigned long)bits_of(v[1]),
                    (unsigned long)bits_of(v[2]), unsigned(p), int(fixture::float_predictions[b]));
        if (int(p) != fixture::float_predictions[b]) ++failed;
    }
    printf("float: %u of %u membranes differ from the host's bits\n", unsigned(mismatches),
                unsigned(fixture::n_samples * fixture::n_steps * fixture::n_outputs));
    return failed + (mismatches != 0);
}

template <class Net>
int check_fixed(const char* name, typename Net::state& s, const int32_t* expected,
                const int32_t* predictions, float scale, double bound) {
    int failed = 0;
    size_t mismatches = 0;
    double error = 0, top = 0;
    for (size_t b = 0; b < fixture::n_samples; ++b) {
        Net::reset(s);
        const int32_t* v = nullptr;
        for (size_t t = 0; t < fixture::n_steps; ++t) {
            push_sample<Net>(s, b, t, v);
            for (size_t i = 0; i < fixture::n_outputs; ++i) {
                const size_t k = (b * fixture::n_steps + t) * 3 + i;
                if (v[i] != expected[k]) ++mismatches;
                const double host = float_of(fixture::float_bits[k]);
                error += fabs(double(v[i]) * scale - host);
                top = fabs(host) > top ? fabs(host) : top;
            }
        }
        const auto p = Net::predict(s);
        printf("%s sample %u: v[T-1] = %ld %ld %ld, class %u (host kernels %d, float %d)\n",
                    name, unsigned(b), long(v[0]), long(v[1]), long(v[2]), unsigned(p),
                    int(predictions[b]), int(fixture::float_predictions[b]));
        if (int(p) != predictions[b]) ++failed;
    }
    error /= double(fixture::n_samples * fixture::n_steps * fixture::n_outputs);
    const double relative = top > 0 ? error / top : 0;
    printf("%s: %u membranes differ from the host kernels'; mean |error| vs float = "
                "%.6f of max |v| (bound %.3f)\n",
                name, unsigned(mismatches), relative, bound);
    return failed + (mismatches != 0) + !(relative < bound);
}

}  // namespace

int main() {
    int failed = check_float();
    failed += check_fixed<model_int16::network>("int16", int16_state, fixture::int16_membrane,
                                                fixture::int16_predictions,
                                                model_int16::layer2.scale, 0.001);
    failed += check_fixed<model_int8::network>("int8", int8_state, fixture::int8_membrane,
                                               fixture::int8_predictions,
                                               model_int8::layer2.scale, 0.05);
    printf("firmware check: %d failed\n", failed);
    fflush(stdout);
    return failed;
}
