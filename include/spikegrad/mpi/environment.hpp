/// \file
/// spikegrad::mpi: the MPI environment of a program (opt-in module, target spikegrad::mpi, Open
/// MPI or any MPI-3 library): initialisation, a failing rank that ends the whole job with its
/// error instead of leaving the others waiting, and the few typed helpers the module shares.
#pragma once

#include "../core/error.hpp"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

namespace spikegrad::mpi {

/// An error raised on every rank of a collective step because one rank failed; the message
/// names the failing rank and carries its error.
class rank_error : public error {
public:
    using error::error;
};

/// MPI's datatype of a C++ arithmetic type.
template <class T>
MPI_Datatype datatype() {
    if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    else if constexpr (std::is_same_v<T, int>) return MPI_INT;
    else if constexpr (std::is_same_v<T, unsigned long long>) return MPI_UNSIGNED_LONG_LONG;
    else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
    else static_assert(sizeof(T) == 0, "spikegrad::mpi::datatype: no MPI datatype for this type");
}

inline int rank(MPI_Comm comm = MPI_COMM_WORLD) {
    int r = 0;
    MPI_Comm_rank(comm, &r);
    return r;
}

inline int size(MPI_Comm comm = MPI_COMM_WORLD) {
    int n = 1;
    MPI_Comm_size(comm, &n);
    return n;
}

/// Prints "<program>: rank r of n: <message>" on stderr and aborts every rank of the job
/// (MPI_Abort: mpirun and srun end all processes and return non-zero).
[[noreturn]] inline void abort_job(const char* program, const char* message,
                                   MPI_Comm comm = MPI_COMM_WORLD) {
    int initialised = 0, finalised = 0;
    MPI_Initialized(&initialised);
    MPI_Finalized(&finalised);
    if (initialised && !finalised) {
        std::fprintf(stderr, "%s: rank %d of %d: %s\n", program, rank(comm), size(comm), message);
        std::fflush(stderr);
        MPI_Abort(comm, 1);
    }
    std::fprintf(stderr, "%s: %s\n", program, message);
    std::fflush(stderr);
    std::_Exit(1);
}

namespace detail {
inline const char*& program_name() {
    static const char* name = "spikegrad";
    return name;
}

/// std::terminate (an exception nobody caught, or one thrown from a destructor) aborts the job.
[[noreturn]] inline void terminate_job() {
    std::string message = "terminated";
    if (auto failure = std::current_exception()) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            message = std::string("error: ") + e.what();
        } catch (...) {
            message = "error: an exception that is not a std::exception";
        }
    }
    abort_job(program_name(), message.c_str());
}
}  // namespace detail

/// MPI_Init on construction, MPI_Finalize on destruction. OpenMP threads inside a rank never
/// call MPI (only the main thread does), so the funneled thread level is enough. An exception
/// that escapes main, or reaches std::terminate, aborts the job with its message.
class environment {
public:
    environment(int& argc, char**& argv, const char* program = "spikegrad") {
        detail::program_name() = program;
        int provided = 0;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        previous_ = std::set_terminate(detail::terminate_job);
    }
    environment(const environment&) = delete;
    environment& operator=(const environment&) = delete;
    ~environment() {
        // Unwinding from an exception that main did not catch: end the other ranks too.
        if (std::uncaught_exceptions() > 0) abort_job(detail::program_name(), "error while unwinding");
        std::set_terminate(previous_);
        int finalised = 0;
        MPI_Finalized(&finalised);
        if (!finalised) MPI_Finalize();
    }

    int rank() const { return mpi::rank(); }
    int size() const { return mpi::size(); }

private:
    std::terminate_handler previous_ = nullptr;
};

/// Runs body() inside an MPI environment; an exception on any rank prints its message (with the
/// rank) and aborts the whole job, so the other ranks never wait for a partner that is gone.
/// Returns body's exit code.
template <class Body>
int run(int& argc, char**& argv, const char* program, Body&& body) {
    environment env(argc, argv, program);
    try {
        return body();
    } catch (const std::exception& e) {
        abort_job(program, e.what());
    }
}

/// Raises, on every rank, the error of the lowest-numbered rank whose `failure` is set (the
/// others receive its message). Collective: every rank of `comm` calls it, failed or not.
inline void agree_on_failure(const std::string* failure, const char* what,
                             MPI_Comm comm = MPI_COMM_WORLD) {
    const int me = rank(comm);
    int mine = failure ? me : size(comm), first = 0;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == size(comm)) return;
    int length = me == first ? static_cast<int>(failure->size()) : 0;
    MPI_Bcast(&length, 1, MPI_INT, first, comm);
    std::string message(static_cast<std::size_t>(length), '\0');
    if (me == first) message = *failure;
    MPI_Bcast(message.data(), length, MPI_CHAR, first, comm);
    raise<rank_error>(what, ": rank ", first, " of ", size(comm), ": ", message);
}

/// Runs f() on every rank and agrees on failure: when f throws on any rank, every rank raises
/// rank_error with the first failing rank's message (never a rank left waiting).
template <class F>
void collectively(const char* what, MPI_Comm comm, F&& f) {
    std::string failure;
    bool failed = false;
    try {
        f();
    } catch (const std::exception& e) {
        failure = e.what();
        failed = true;
    }
    agree_on_failure(failed ? &failure : nullptr, what, comm);
}

}  // namespace spikegrad::mpi
