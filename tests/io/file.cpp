// write_atomically: concurrent writers of one target never share a temporary file, and a
// finished write leaves only the target behind. (Killing a writer mid-save: tests/crash.)
#include <spikegrad/io/file.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace spikegrad;
namespace fs = std::filesystem;

TEST_CASE("threads writing the same file atomically each write a whole file of their own") {
    const auto folder = fs::temp_directory_path() / "spikegrad-tests" / "atomic-threads";
    fs::remove_all(folder);
    fs::create_directories(folder);
    const std::string path = (folder / "shared.bin").string();
    constexpr int threads = 6, writes = 40;
    // Each write is 64 KiB of one byte value: a mix of two writers shows as mixed bytes.
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int id = 0; id < threads; ++id)
        pool.emplace_back([&, id] {
            const std::string content(64 * 1024, static_cast<char>('a' + id));
            for (int k = 0; k < writes; ++k) {
                try {
                    io::write_atomically(path, [&](std::ofstream& out) {
                        out.write(content.data(), static_cast<std::streamsize>(content.size()));
                    });
                } catch (const io_error&) {
                    ++failures;
                }
            }
        });
    for (auto& t : pool) t.join();
    CHECK(failures == 0);
    const std::string final_content = io::read_file(path);
    REQUIRE(final_content.size() == 64 * 1024);
    CHECK(final_content.find_first_not_of(final_content[0]) == std::string::npos);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++entries;
    CHECK(entries == 1);  // no temporary left behind
}

TEST_CASE("a writer that throws leaves the old file and no temporary") {
    const auto folder = fs::temp_directory_path() / "spikegrad-tests" / "atomic-throw";
    fs::remove_all(folder);
    fs::create_directories(folder);
    const std::string path = (folder / "kept.txt").string();
    io::write_atomically(path, [](std::ofstream& out) { out << "old"; }, false);
    CHECK_THROWS_AS(io::write_atomically(path, [](std::ofstream& out) {
                        out << "half";
                        throw io_error("writer failed");
                    }),
                    io_error);
    CHECK(io::read_file(path) == "old");
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++entries;
    CHECK(entries == 1);
}
