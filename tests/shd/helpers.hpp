// Helpers of the SHD tests: a scratch folder, a raw HDF5 writer for malformed files (written
// with the C API directly, not with write_shd, which refuses bad content), and a runner for the
// system Python's h5py fixture script.
#pragma once

#include <hdf5.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace shd_test {

namespace fs = std::filesystem;

/// A fresh folder under the system temp folder, removed with its content at the end.
class scratch {
public:
    explicit scratch(const std::string& name) {
        static int counter = 0;
        path_ = fs::temp_directory_path() /
                ("spikegrad_shd_" + name + "_" + std::to_string(::getpid()) + "_" +
                 std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~scratch() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    std::string operator/(const std::string& file) const { return (path_ / file).string(); }
    const fs::path& path() const { return path_; }
    std::vector<std::string> files() const {
        std::vector<std::string> out;
        for (const auto& entry : fs::directory_iterator(path_))
            out.push_back(entry.path().filename().string());
        return out;
    }

private:
    fs::path path_;
};

/// Content of a raw SHD-like file; every field can be left out or given an odd type.
struct raw_file {
    std::vector<std::vector<double>> times;
    std::vector<std::vector<long long>> units;
    std::vector<long long> labels;
    std::vector<std::string> keys;  // written as /extra/keys (variable-length) when not empty
    bool with_times = true, with_units = true, with_labels = true;
    hid_t time_type = H5T_IEEE_F32LE;
    hid_t unit_type = H5T_STD_U16LE;
    hid_t label_type = H5T_STD_U16LE;
};

inline void write_vlen(hid_t file, const char* name, hid_t base_file_type, hid_t base_memory_type,
                       std::vector<hvl_t>& rows) {
    const hsize_t n = rows.size();
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t file_type = H5Tvlen_create(base_file_type);
    hid_t memory_type = H5Tvlen_create(base_memory_type);
    hid_t link_list = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(link_list, 1);
    hid_t dataset = H5Dcreate2(file, name, file_type, space, link_list, H5P_DEFAULT, H5P_DEFAULT);
    if (n > 0) H5Dwrite(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data());
    H5Dclose(dataset);
    H5Pclose(link_list);
    H5Tclose(memory_type);
    H5Tclose(file_type);
    H5Sclose(space);
}

inline void write_raw(const std::string& path, raw_file content) {
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (content.with_times) {
        std::vector<hvl_t> rows;
        for (auto& row : content.times) rows.push_back(hvl_t{row.size(), row.data()});
        write_vlen(file, "spikes/times", content.time_type, H5T_NATIVE_DOUBLE, rows);
    }
    if (content.with_units) {
        std::vector<hvl_t> rows;
        for (auto& row : content.units) rows.push_back(hvl_t{row.size(), row.data()});
        write_vlen(file, "spikes/units", content.unit_type, H5T_NATIVE_LLONG, rows);
    }
    if (content.with_labels) {
        const hsize_t n = content.labels.size();
        hid_t space = H5Screate_simple(1, &n, nullptr);
        hid_t dataset = H5Dcreate2(file, "labels", content.label_type, space, H5P_DEFAULT,
                                   H5P_DEFAULT, H5P_DEFAULT);
        if (n > 0)
            H5Dwrite(dataset, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     content.labels.data());
        H5Dclose(dataset);
        H5Sclose(space);
    }
    if (!content.keys.empty()) {
        const hsize_t n = content.keys.size();
        std::vector<const char*> pointers;
        for (const auto& k : content.keys) pointers.push_back(k.c_str());
        hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, H5T_VARIABLE);
        hid_t space = H5Screate_simple(1, &n, nullptr);
        hid_t link_list = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(link_list, 1);
        hid_t dataset =
            H5Dcreate2(file, "extra/keys", type, space, link_list, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data());
        H5Dclose(dataset);
        H5Pclose(link_list);
        H5Sclose(space);
        H5Tclose(type);
    }
    H5Fclose(file);
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Runs the system Python (Debian's, with h5py) on the fixture script; returns the exit
/// status and puts stdout + stderr in `output`.
inline int run_fixture(const std::string& arguments, std::string& output,
                       const std::string& log_path) {
    const std::string script = std::string(SPIKEGRAD_TEST_DATA_DIR) + "/shd/shd_fixture.py";
    const std::string command = std::string(SPIKEGRAD_SYSTEM_PYTHON) + " " + script + " " +
                                arguments + " > " + log_path + " 2>&1";
    const int status = std::system(command.c_str());
    output = slurp(log_path);
    return status;
}

/// Whether the system Python can import h5py now. The interop tests are built only where it
/// could at configure time (SPIKEGRAD_HAVE_H5PY) and fail if it no longer can.
inline bool have_h5py() {
    const std::string command =
        std::string(SPIKEGRAD_SYSTEM_PYTHON) + " -c 'import h5py' > /dev/null 2>&1";
    return std::string(SPIKEGRAD_SYSTEM_PYTHON).size() > 0 && std::system(command.c_str()) == 0;
}

}  // namespace shd_test
