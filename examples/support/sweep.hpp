// Sweeps of independent runs (variant x f x model x seed) for the example programs: each run's
// result row is saved on its own (<out>/runs/<key>.csv) as soon as it is done, a rerun skips the
// runs whose row exists (resume after a killed job), and with --mpi the runs are spread over the
// ranks of an MPI job (run i on rank i mod ranks; the programs have --mpi when CMake found MPI). Once every run
// is done, rank 0 reads the rows back in run order and writes results.csv, summary.csv and the
// figures, so a sweep on any number of ranks writes the files one process writes.
#pragma once

#include "experiment.hpp"

#include <spikegrad/io/csv.hpp>
#include <spikegrad/io/file.hpp>

#ifdef SPIKEGRAD_EXAMPLES_MPI
#include <spikegrad/mpi/environment.hpp>
#endif

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace spikegrad::examples {

/// The --mpi option of a sweep program.
inline void add_sweep_options(CLI::App& app, bool& use_mpi) {
    app.add_flag("--mpi", use_mpi,
                 "spread the runs over the ranks of an MPI job (under mpirun or srun); rank 0 "
                 "merges the results");
}

class sweep {
public:
    /// Starts the sweep's MPI environment when `use_mpi` (a program built without MPI refuses).
    sweep(bool use_mpi, int& argc, char**& argv, const char* program) : program_(program) {
        if (!use_mpi) {
            // Several copies started by mpirun/srun without --mpi would all run every run into
            // the same folder.
            for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
                if (const char* value = std::getenv(name); value && std::atoi(value) > 1)
                    raise<option_error>("started as one of ", value, " MPI ranks without --mpi: "
                                        "give --mpi to spread the runs over them");
            return;
        }
#ifdef SPIKEGRAD_EXAMPLES_MPI
        env_ = std::make_unique<mpi::environment>(argc, argv, program);
        rank_ = env_->rank();
        ranks_ = env_->size();
#else
        (void)argc;
        (void)argv;
        raise<option_error>("--mpi: ", program, " was built without MPI (CMake found no MPI; "
                            "install libopenmpi-dev and rebuild)");
#endif
    }

    int rank() const { return rank_; }
    int ranks() const { return ranks_; }
    /// Rank 0 writes the merged results and figures.
    bool leader() const { return rank_ == 0; }

    /// Fixes the folder of the run rows and checks that rows already there were made with the
    /// same settings (`record`'s, less the command line and the clock); a mismatch is an error,
    /// never a silent mix of two sweeps.
    void open(const std::string& out, const run_record& record) {
        folder_ = out + "/runs";
        if (leader()) prepare_output(folder_);
        const std::string path = folder_ + "/settings.json";
        const std::string mine = record.fingerprint();
        barrier();  // the folder exists, and no rank has written the settings yet
        if (std::filesystem::exists(path)) {
            if (io::read_file(path) != mine)
                raise<option_error>(path, ": the runs in this folder were made with other "
                                    "settings; choose another --out or delete ", folder_);
        } else if (leader()) {
            io::write_atomically(path, [&](std::ofstream& f) { f << mine; });
        }
        barrier();
    }

    /// Whether this process trains run `index` (named `key`): not when its row exists already
    /// (resume), nor when the run belongs to another rank. Counts the runs it skips.
    bool should_run(std::size_t index, const std::string& key) {
        if (std::filesystem::exists(row_path(key))) {
            ++resumed_;
            return false;
        }
        return index % static_cast<std::size_t>(ranks_) == static_cast<std::size_t>(rank_);
    }

    /// Saves a finished run's row (atomically: a killed job leaves no half row).
    void save(const std::string& key, const std::vector<std::string>& header,
              const std::vector<io::csv_field>& row) const {
        io::csv_writer one(header);
        one.row(row);
        one.save(row_path(key));
    }

    /// Waits for every rank's runs; afterwards every row is on disk.
    void finish() {
        barrier();
        if (resumed_ > 0 && leader())
            log("%s: %zu runs were done already (their rows in %s), not run again", program_,
                resumed_, folder_.c_str());
    }

    /// The saved row of run `key` (after finish()).
    io::csv_table load(const std::string& key) const {
        auto table = io::read_csv(row_path(key));
        if (table.rows.size() != 1)
            raise<io_error>(row_path(key), ": expected one result row, found ", table.rows.size());
        return table;
    }

    /// Ends the job after an error: under MPI every rank stops (MPI_Abort), so no rank waits for
    /// one that failed. Returns the exit code otherwise.
    int fail(const char* message) const {
#ifdef SPIKEGRAD_EXAMPLES_MPI
        if (env_) mpi::abort_job(program_, message);
#endif
        std::fprintf(stderr, "%s: %s\n", program_, message);
        return 1;
    }

private:
    std::string row_path(const std::string& key) const { return folder_ + "/" + key + ".csv"; }

    void barrier() const {
#ifdef SPIKEGRAD_EXAMPLES_MPI
        if (env_) MPI_Barrier(MPI_COMM_WORLD);
#endif
    }

    const char* program_;
    int rank_ = 0, ranks_ = 1;
    std::string folder_;
    std::size_t resumed_ = 0;
#ifdef SPIKEGRAD_EXAMPLES_MPI
    std::unique_ptr<mpi::environment> env_;
#endif
};

}  // namespace spikegrad::examples
