// Expected error: "Neuron is not a neuron policy"
// A neuron whose dynamics can step but has no adjoint_step: the concept names the contract at
// the layer, instead of an error deep inside the BPTT engine.
#include <spikegrad/spikegrad.hpp>
#include <string>
struct half_neuron {
    struct params {};
    static constexpr bool spiking = true;
    static constexpr const char* name = "half";
    template <class S>
    struct dynamics {
        static constexpr std::size_t trace_channels = 1;
        dynamics(const params&, std::size_t) {}
        void declare(spikegrad::parameter_store<S>&, const std::string&) {}
        void prepare(const S*, const spikegrad::time_grid&) {}
        std::size_t size() const { return 1; }
        std::size_t work_size() const { return 1; }
        void begin_forward(S*) const {}
        template <class Spike>
        void step(const S*, const S*, S*, std::size_t, S*, const Spike&) const {}
        void begin_adjoint(S*) const {}
        void end_adjoint(const S*, const S*, S*) const {}
    };
};
int main() { spikegrad::network<spikegrad::dense<half_neuron>, spikegrad::dense<spikegrad::readout>> net({1, 1, 1}); }
