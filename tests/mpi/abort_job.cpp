// Helper of the "a failing rank aborts the job" test: rank 1 raises an error while rank 0 waits
// in a collective that rank 1 never reaches; mpi::run must end the job (not hang) with the error.
#include <spikegrad/mpi/environment.hpp>

int main(int argc, char** argv) {
    return spikegrad::mpi::run(argc, argv, "abort_job", [] {
        if (spikegrad::mpi::rank() == 1)
            spikegrad::raise<spikegrad::data_error>("deliberate failure on rank 1");
        MPI_Barrier(MPI_COMM_WORLD);  // rank 0 would wait here for ever
        return 0;
    });
}
