// A run of JSON members rendered once and appended again while the values
// that decide it repeat: a flow's packet and reset lines share their
// source / destination / network / observer objects (addresses, MACs, the
// Community ID's SHA-1), which cost more to format than to copy.
//
// Direct-mapped, a fixed number of slots (bounded memory whatever the
// traffic), one per thread as the output builders are called.  The key is
// every input of the run: `key` bytes (tuple, MACs, ifindex, seed...) and a
// name that can change under the same number (an interface renamed).  A run
// is the text a JsonWriter wrote after a member, starting with its comma
// (JsonWriter::raw appends it, JsonWriter::since reads it back).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace rsthop::output {

class RunCache {
 public:
  static constexpr size_t kKeyBytes = 64;
  static constexpr size_t kSlots = 256;

  struct Key {
    std::array<uint8_t, kKeyBytes> bytes{};  // unused bytes stay zero
  };

  // The key of a struct of inputs without padding (every byte is a value's,
  // so equal inputs give equal keys).
  template <typename Inputs>
  static Key key_of(const Inputs& in) {
    static_assert(sizeof(Inputs) <= kKeyBytes, "a run's inputs fit the key");
    static_assert(std::has_unique_object_representations_v<Inputs>, "no padding in a run's inputs");
    Key k;
    std::memcpy(k.bytes.data(), &in, sizeof(in));
    return k;
  }

  // The run of exactly these inputs, or nullptr (then the caller writes
  // the run itself and put()s it).  The pointer is valid until put().
  const std::string* find(const Key& key, std::string_view name) {
    const Slot& s = slots_[slot_of(key)];
    if (s.used && s.key.bytes == key.bytes && s.name == name) {
      hits_++;
      return &s.text;
    }
    misses_++;
    return nullptr;
  }
  // Keeps `text` as the run of (key, name), in place of its slot's run.
  void put(const Key& key, std::string_view name, std::string_view text) {
    Slot& s = slots_[slot_of(key)];
    s.key = key;
    s.name.assign(name);
    s.text.assign(text);
    s.used = true;
  }

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  struct Slot {
    Key key;
    std::string name, text;
    bool used = false;
  };
  static size_t slot_of(const Key& key);

  std::array<Slot, kSlots> slots_{};
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace rsthop::output
