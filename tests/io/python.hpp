// Helpers for the io tests: a scratch folder removed at exit, and running Debian's NumPy through
// the system interpreter (SPIKEGRAD_SYSTEM_PYTHON) to write and check files independently of us.
#pragma once

#include <spikegrad/io/file.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace test_io {

namespace fs = std::filesystem;

/// A folder for this run's files, removed when the program ends.
inline const fs::path& scratch() {
    struct folder {
        fs::path path;
        folder() {
            path = fs::temp_directory_path() / ("spikegrad-test-io-" + std::to_string(::getpid()));
            fs::create_directories(path);
        }
        ~folder() {
            std::error_code ignored;
            fs::remove_all(path, ignored);
        }
    };
    static folder instance;
    return instance.path;
}

inline std::string scratch_file(const std::string& name) {
    return (scratch() / name).string();
}

struct python_result {
    int status = -1;
    std::string output;  // stdout and stderr together
};

/// Runs `script` with the system Python 3 in the scratch folder.
inline python_result run_python(const std::string& script) {
    static int counter = 0;
    const std::string name = "script_" + std::to_string(counter++);
    const auto script_path = scratch() / (name + ".py");
    const auto output_path = scratch() / (name + ".out");
    {
        std::ofstream out(script_path);
        out << script;
    }
    const std::string command = "cd '" + scratch().string() +
                                "' && '" SPIKEGRAD_SYSTEM_PYTHON "' '" + script_path.string() +
                                "' > '" + output_path.string() + "' 2>&1";
    python_result result;
    const int raw = std::system(command.c_str());
    result.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.output = spikegrad::io::read_file(output_path.string());
    return result;
}

/// Whether the system Python has NumPy (the tests that need it fail without it).
inline bool has_numpy() {
    static const bool available =
        run_python("import numpy\nprint('numpy', numpy.__version__)\n").status == 0;
    return available;
}

}  // namespace test_io
