// One name table per vocabulary enum: `names[i]` is the JSON/text name of the
// enumerator with value i (the table's order is the enum's).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace rsthop {

// The enumerator named `s`, if any.
template <typename E, size_t N>
std::optional<E> parse_name(const std::array<const char*, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; i++)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace rsthop
