/// \file
/// spikegrad: checkpoints. A binary file holding the architecture string, the network's
/// settings (network/settings.hpp: dt, thresholds, reset, fixed taus, surrogate family and
/// constants, delay rule and cap, ...), the parameter table (names, kinds, shapes, bounds), the
/// values and, optionally, the optimiser state, closed by a 64-bit FNV-1a checksum. Written to
/// a temporary file and renamed; a file of another architecture or other settings, a truncated
/// or a corrupted file raises io_error naming the file and the cause.
#pragma once

#include "../core/error.hpp"
#include "../io/file.hpp"
#include "../core/parameters.hpp"
#include "../network/settings.hpp"
#include "optimizer.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace spikegrad {

namespace detail {

inline constexpr char checkpoint_magic[8] = {'S', 'P', 'K', 'G', 'R', 'A', 'D', '1'};
/// Format 2 records the settings and uses FNV-1a's published offset basis; format 1 (no
/// settings, basis 1469598103934665603, a digit short) is refused: it cannot be checked.
inline constexpr std::uint32_t checkpoint_version = 2;
inline constexpr std::uint64_t fnv1a_offset_basis = 14695981039346656037ull;

/// Builds a checkpoint's bytes: magic, sections of trivially copyable values and strings.
class checkpoint_writer {
public:
    template <class T>
        requires std::is_trivially_copyable_v<T>
    void put(const T& x) {
        bytes(&x, sizeof x);
    }
    void put(const std::string& s) {
        put(static_cast<std::uint64_t>(s.size()));
        bytes(s.data(), s.size());
    }
    template <class T>
    void put_array(const T* data, std::size_t n) {
        put(static_cast<std::uint64_t>(n));
        bytes(data, n * sizeof(T));
    }
    void bytes(const void* data, std::size_t n) {
        const auto* p = static_cast<const char*>(data);
        buffer_.append(p, n);
    }
    std::string finish() {
        std::uint64_t hash = fnv1a(buffer_);
        bytes(&hash, sizeof hash);
        return std::move(buffer_);
    }
    static std::uint64_t fnv1a(const std::string& data, std::size_t n = std::string::npos) {
        std::uint64_t h = fnv1a_offset_basis;
        const std::size_t end = n == std::string::npos ? data.size() : n;
        for (std::size_t k = 0; k < end; ++k) {
            h ^= static_cast<unsigned char>(data[k]);
            h *= 1099511628211ull;
        }
        return h;
    }

private:
    std::string buffer_;
};

/// Reads a checkpoint's bytes back, with io_error naming the file and what is short or wrong.
class checkpoint_reader {
public:
    checkpoint_reader(std::string data, std::string path) : data_(std::move(data)), path_(std::move(path)) {}

    template <class T>
        requires std::is_trivially_copyable_v<T>
    T get(const char* what) {
        T x;
        bytes(&x, sizeof x, what);
        return x;
    }
    std::string get_string(const char* what) {
        const auto n = get<std::uint64_t>(what);
        need(n, what);
        std::string s = data_.substr(at_, n);
        at_ += n;
        return s;
    }
    template <class T>
    std::vector<T> get_array(const char* what) {
        const auto n = get<std::uint64_t>(what);
        if (n > data_.size()) fail("truncated file (", what, " claims ", n, " elements)");
        std::vector<T> out(n);
        bytes(out.data(), n * sizeof(T), what);
        return out;
    }
    void bytes(void* out, std::size_t n, const char* what) {
        need(n, what);
        if (n == 0) return;  // `out` may be an empty vector's null data(): no memcpy(nullptr)
        std::memcpy(out, data_.data() + at_, n);
        at_ += n;
    }
    template <class... Parts>
    [[noreturn]] void fail(const Parts&... parts) const {
        raise<io_error>("checkpoint ", path_, ": ", parts...);
    }
    std::size_t position() const { return at_; }
    const std::string& data() const { return data_; }

private:
    void need(std::size_t n, const char* what) const {
        if (at_ + n > data_.size())
            fail("truncated file: ", what, " needs ", n, " bytes at offset ", at_, " of ",
                 data_.size());
    }

    std::string data_;
    std::string path_;
    std::size_t at_ = 0;
};

/// A checkpoint's first sections: what it was written from.
struct checkpoint_head {
    std::uint32_t scalar_bytes = 0;
    std::string architecture;
    settings_record settings;
};

/// Checks the magic, the version and the checksum, then reads the scalar size, the
/// architecture and the settings.
inline checkpoint_head read_head(checkpoint_reader& r) {
    const std::string& data = r.data();
    if (data.size() < sizeof checkpoint_magic + 8 ||
        std::memcmp(data.data(), checkpoint_magic, sizeof checkpoint_magic) != 0)
        r.fail("not a spikegrad checkpoint (bad magic)");
    char magic[sizeof checkpoint_magic];
    r.bytes(magic, sizeof magic, "magic");
    const auto version = r.get<std::uint32_t>("version");
    if (version == 1)
        r.fail("format version 1 records no network settings (threshold, reset, taus, dt, "
               "surrogate, delays), so it cannot be checked against this network; save it again "
               "with this version of spikegrad");
    if (version != checkpoint_version)
        r.fail("format version ", version, " is not supported (expected ", checkpoint_version,
               ")");
    checkpoint_head head;
    head.scalar_bytes = r.get<std::uint32_t>("scalar size");
    if (head.scalar_bytes != 4 && head.scalar_bytes != 8)
        r.fail("scalar size ", head.scalar_bytes, " is neither float nor double");
    head.architecture = r.get_string("architecture");
    const auto setting_count = r.get<std::uint64_t>("setting count");
    if (setting_count > data.size()) r.fail("truncated file (", setting_count, " settings)");
    for (std::uint64_t k = 0; k < setting_count; ++k) {
        std::string name = r.get_string("setting name");
        head.settings.add(name, r.get_string("setting value"));
    }
    return head;
}

}  // namespace detail

/// What a checkpoint describes, without a network to load it into: the architecture string,
/// the recorded settings and each parameter's name and shape (for rebuilding the network,
/// train/from_checkpoint.hpp, and for tools that list a file).
struct checkpoint_info {
    /// One parameter table entry.
    struct parameter {
        std::string name;
        std::vector<std::size_t> shape;
    };
    std::uint32_t scalar_bytes = 0;
    std::string architecture;
    settings_record settings;
    std::vector<parameter> parameters;
    /// The shape of the parameter `name`, or nullptr.
    const std::vector<std::size_t>* shape_of(const std::string& name) const {
        for (const auto& p : parameters)
            if (p.name == name) return &p.shape;
        return nullptr;
    }
};

/// Reads a checkpoint's description (checksum checked; values skipped). Raises io_error like
/// load_checkpoint for a file that is not an intact checkpoint.
inline checkpoint_info read_checkpoint_info(const std::string& path) {
    detail::checkpoint_reader r(io::read_file(path), path);
    const std::string& data = r.data();
    auto head = detail::read_head(r);  // checks the size first
    const std::size_t body = data.size() - sizeof(std::uint64_t);
    std::uint64_t stored_hash = 0;
    std::memcpy(&stored_hash, data.data() + body, sizeof stored_hash);
    if (detail::checkpoint_writer::fnv1a(data, body) != stored_hash)
        r.fail("checksum mismatch (the file is corrupted)");
    checkpoint_info info{head.scalar_bytes, std::move(head.architecture), std::move(head.settings), {}};
    const auto count = r.get<std::uint64_t>("parameter count");
    if (count > data.size()) r.fail("truncated file (", count, " parameters)");
    for (std::uint64_t p = 0; p < count; ++p) {
        checkpoint_info::parameter entry;
        entry.name = r.get_string("parameter name");
        (void)r.get<std::uint32_t>("parameter kind");
        entry.shape = r.get_array<std::size_t>("parameter shape");
        (void)r.get<double>("lower bound");
        (void)r.get<double>("upper bound");
        if (info.scalar_bytes == 4)
            (void)r.get_array<float>("parameter values");
        else
            (void)r.get_array<double>("parameter values");
        info.parameters.push_back(std::move(entry));
    }
    return info;
}

/// Writes the network's parameters (and the optimiser's state, when given) to `path`.
template <class Net, class Rule = adam>
void save_checkpoint(const std::string& path, const Net& net,
                     const optimizer<Rule, typename Net::scalar_type>* opt = nullptr) {
    using S = typename Net::scalar_type;
    detail::checkpoint_writer w;
    w.bytes(detail::checkpoint_magic, sizeof detail::checkpoint_magic);
    w.put(detail::checkpoint_version);
    w.put(static_cast<std::uint32_t>(sizeof(S)));
    w.put(net.architecture());
    const auto settings = network_settings(net);
    w.put(static_cast<std::uint64_t>(settings.size()));
    for (const auto& item : settings.items()) {
        w.put(item.name);
        w.put(item.value);
    }
    const auto& store = net.parameters();
    w.put(static_cast<std::uint64_t>(store.count()));
    for (const auto& info : store.infos()) {
        w.put(info.name);
        w.put(static_cast<std::uint32_t>(info.kind));
        w.put_array(info.shape.data(), info.shape.size());
        w.put(info.lower);
        w.put(info.upper);
        w.put_array(store.flat().data() + info.offset, info.size);
    }
    w.put(static_cast<std::uint8_t>(opt ? 1 : 0));
    if (opt) {
        w.put(std::string(Rule::name));
        w.put(static_cast<std::uint64_t>(opt->steps()));
        w.put(opt->learning_rate_scale());
        for (const auto& slot : opt->slots()) w.put_array(slot.data(), slot.size());
    }
    const std::string content = w.finish();
    io::write_atomically(path, [&](std::ofstream& out) {
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
    });
}

/// Reads a checkpoint written by save_checkpoint into `net` (and `opt`, when given and the
/// file holds optimiser state of the same rule). The network must have the same architecture.
/// All or nothing: the whole file is read and checked (checksum, names, kinds, shapes, every
/// value within its bounds, the optimiser state's rule and sizes) before anything changes;
/// on any error `net` and `opt` are left exactly as they were.
///
/// Bounds: a value must lie within the bounds the file records for its parameter, and the
/// file's lower bound may not be below the network's (delays >= 0, time constants > 0). The
/// file's upper bound may exceed the network's: the adaptive delay cap only ever grows it.
/// The file's bounds become the network's.
template <class Net, class Rule = adam>
void load_checkpoint(const std::string& path, Net& net,
                     optimizer<Rule, typename Net::scalar_type>* opt = nullptr) {
    using S = typename Net::scalar_type;
    detail::checkpoint_reader r(io::read_file(path), path);
    const std::string& data = r.data();
    const detail::checkpoint_head head = detail::read_head(r);  // checks the size first
    const std::size_t body = data.size() - sizeof(std::uint64_t);
    std::uint64_t stored_hash = 0;
    std::memcpy(&stored_hash, data.data() + body, sizeof stored_hash);
    if (head.scalar_bytes != sizeof(S))
        r.fail("holds ", head.scalar_bytes == 4 ? "float" : "double",
               " parameters, the network uses ", sizeof(S) == 4 ? "float" : "double");
    if (head.architecture != net.architecture())
        r.fail("architecture mismatch: file has ", head.architecture, ", network is ",
               net.architecture());
    const settings_record& recorded = head.settings;
    auto& store = net.parameters();
    const auto count = r.get<std::uint64_t>("parameter count");
    if (count != store.count())
        r.fail("holds ", count, " parameters, the network has ", store.count());
    std::vector<S> values(store.size());
    std::vector<std::pair<double, double>> bounds;
    std::vector<std::uint32_t> kinds;
    for (std::size_t p = 0; p < count; ++p) {
        const auto& info = store.info(p);
        const std::string name = r.get_string("parameter name");
        if (name != info.name) r.fail("parameter ", p, " is '", name, "', expected '", info.name, "'");
        kinds.push_back(r.get<std::uint32_t>("parameter kind"));
        const auto shape = r.get_array<std::size_t>("parameter shape");
        if (shape != info.shape) r.fail("parameter '", name, "' has another shape than the network's");
        const auto lower = r.get<double>("lower bound");
        const auto upper = r.get<double>("upper bound");
        bounds.emplace_back(lower, upper);
        const auto v = r.get_array<S>("parameter values");
        if (v.size() != info.size) r.fail("parameter '", name, "' has ", v.size(), " values");
        std::copy(v.begin(), v.end(), values.begin() + static_cast<std::ptrdiff_t>(info.offset));
    }
    const bool has_optimizer = r.get<std::uint8_t>("optimizer flag") != 0;
    std::string rule;
    std::uint64_t steps = 0;
    double scale = 1;
    std::vector<std::vector<S>> slots;
    if (has_optimizer) {
        rule = r.get_string("optimizer name");
        steps = r.get<std::uint64_t>("optimizer steps");
        scale = r.get<double>("learning-rate scale");
        const std::size_t slot_count = rule == "sgd" ? 1 : 2;
        for (std::size_t s = 0; s < slot_count; ++s) slots.push_back(r.get_array<S>("optimizer state"));
    }
    if (r.position() != body) r.fail("unexpected ", body - r.position(), " bytes before the checksum");
    if (detail::checkpoint_writer::fnv1a(data, body) != stored_hash)
        r.fail("checksum mismatch (the file is corrupted)");
    // An intact file: now its content must fit the network.
    const auto expected = network_settings(net);
    for (const auto& item : expected.items()) {
        const std::string* value = recorded.find(item.name);
        if (!value)
            r.fail("setting mismatch: the file does not record ", item.name, " (the network's is ",
                   item.value, ")");
        if (*value != item.value)
            r.fail("setting mismatch: ", item.name, " is ", *value, " in the file, ", item.value,
                   " in the network");
    }
    for (const auto& item : recorded.items())
        if (!expected.find(item.name))
            r.fail("setting mismatch: the file records ", item.name, " = ", item.value,
                   ", which the network does not have");
    for (std::size_t p = 0; p < count; ++p) {
        const auto& info = store.info(p);
        const auto [lower, upper] = bounds[p];
        if (kinds[p] != static_cast<std::uint32_t>(info.kind))
            r.fail("parameter '", info.name, "' is of kind ", kinds[p], ", the network's is a ",
                   to_string(info.kind));
        if (!(lower >= info.lower) || !(upper >= lower))
            r.fail("parameter '", info.name, "' has bounds [", lower, ", ", upper,
                   "], the network's lower bound is ", info.lower);
        for (std::size_t k = 0; k < info.size; ++k) {
            const auto value = static_cast<double>(values[info.offset + k]);
            if (!(value >= lower && value <= upper))
                raise<data_error>("checkpoint ", path, ": ", info.name, "[", k, "] = ", value,
                                  " is outside [", lower, ", ", upper, "]");
        }
    }
    if (opt) {
        if (!has_optimizer) r.fail("holds no optimiser state");
        if (rule != Rule::name) r.fail("optimiser state is ", rule, ", not ", Rule::name);
        if (slots.size() != Rule::slots) r.fail("optimiser state has ", slots.size(), " slots");
        for (std::size_t s = 0; s < Rule::slots; ++s) {
            if (slots[s].size() != store.size())
                r.fail("optimiser state ", s, " has ", slots[s].size(), " values, the network ",
                       store.size());
            for (std::size_t k = 0; k < slots[s].size(); ++k)
                if (!std::isfinite(slots[s][k]))
                    raise<numeric_error>("checkpoint ", path, ": optimiser state ", s, "[", k,
                                         "] is ", static_cast<double>(slots[s][k]));
        }
        if (!(std::isfinite(scale) && scale > 0))
            r.fail("learning-rate scale ", scale, " is not a positive number");
    }
    // Everything checked: commit, with operations that cannot throw.
    if (opt) {
        for (std::size_t s = 0; s < Rule::slots; ++s) opt->slots()[s].swap(slots[s]);
        opt->set_steps(steps, scale);
    }
    store.flat().swap(values);
    for (std::size_t p = 0; p < count; ++p) store.set_bounds(p, bounds[p].first, bounds[p].second);
}

}  // namespace spikegrad
