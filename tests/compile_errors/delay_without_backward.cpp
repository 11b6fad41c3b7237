// Expected error: "Delay is not a delay policy"
// An enabled delay must offer forward and backward on event trains.
#include <spikegrad/spikegrad.hpp>
#include <string>
struct forward_only_delay {
    struct params {};
    static constexpr bool enabled = true;
    static constexpr const char* name = "forward_only";
    template <class S>
    struct model {
        model(const params&, std::size_t) {}
        void declare(spikegrad::parameter_store<S>&, const std::string&, spikegrad::rng&,
                     const spikegrad::time_grid&) {}
        void prepare(const S*) {}
        void forward(const spikegrad::event_train<S>&, std::size_t, spikegrad::event_train<S>&) const {}
    };
};
using spikegrad::dense;
using spikegrad::fast_sigmoid;
using spikegrad::lif;
int main() {
    spikegrad::network<dense<lif, fast_sigmoid, forward_only_delay>, dense<spikegrad::readout>> net({1, 1, 1});
}
