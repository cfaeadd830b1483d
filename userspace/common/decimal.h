// Decimal text of integers for the hot paths (NDJSON lines, evidence texts):
// two digits per table lookup, the digit count from comparisons, and 32-bit
// arithmetic for every value below 2^32 (ports, TTLs, windows, sequence
// numbers: most of what a line holds).  The text is std::to_chars's, byte
// for byte (tests/unit/common/decimal_test.cpp compares them on every digit
// count's edges and on random values); libstdc++'s to_chars counts the
// digits in a loop and divides in 64 bits whatever the value.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace rsthop {

// The longest text format_decimal writes: "18446744073709551615" and
// "-9223372036854775808".
inline constexpr size_t kDecimalMax = 20;

namespace decimal_detail {

inline constexpr char kPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// v < 100, always two digits.
[[gnu::always_inline]] inline char* two(char* p, uint32_t v) {
  std::memcpy(p, kPairs + 2 * v, 2);
  return p + 2;
}
// v < 10000, always four digits.
[[gnu::always_inline]] inline char* four(char* p, uint32_t v) { return two(two(p, v / 100), v % 100); }
// v < 10^8, always eight digits.
[[gnu::always_inline]] inline char* eight(char* p, uint32_t v) { return four(four(p, v / 10000), v % 10000); }
// v < 10000, without leading zeros.
[[gnu::always_inline]] inline char* upto4(char* p, uint32_t v) {
  if (v < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  if (v < 100) return two(p, v);
  if (v < 1000) {
    *p = static_cast<char>('0' + v / 100);
    return two(p + 1, v % 100);
  }
  return four(p, v);
}
// v < 10^8, without leading zeros.
[[gnu::always_inline]] inline char* upto8(char* p, uint32_t v) {
  if (v < 10000) return upto4(p, v);
  return four(upto4(p, v / 10000), v % 10000);
}

[[gnu::always_inline]] inline char* unsigned_text(char* p, uint64_t v) {
  if (v < 100000000) return upto8(p, static_cast<uint32_t>(v));
  if (v <= UINT32_MAX) {
    const auto u = static_cast<uint32_t>(v);
    return eight(upto4(p, u / 100000000), u % 100000000);  // 9 or 10 digits
  }
  if (v < 10000000000000000ULL) {
    return eight(upto8(p, static_cast<uint32_t>(v / 100000000)), static_cast<uint32_t>(v % 100000000));
  }
  const uint64_t high = v / 100000000;  // 17 to 20 digits: at most 4 + 8 + 8
  p = upto4(p, static_cast<uint32_t>(high / 100000000));
  p = eight(p, static_cast<uint32_t>(high % 100000000));
  return eight(p, static_cast<uint32_t>(v % 100000000));
}

}  // namespace decimal_detail

// Writes v at p (at most kDecimalMax bytes) and returns the end.
template <std::integral T>
[[gnu::always_inline]] inline char* format_decimal(char* p, T v) {
  if constexpr (std::is_signed_v<T>) {
    if (v < 0) {
      *p++ = '-';
      // The magnitude in unsigned arithmetic: INT64_MIN's too.
      return decimal_detail::unsigned_text(p, uint64_t{0} - static_cast<uint64_t>(static_cast<int64_t>(v)));
    }
  }
  return decimal_detail::unsigned_text(p, static_cast<uint64_t>(v));
}

// Exactly six digits of v < 10^6, leading zeros kept (a timestamp's
// microseconds); returns the end.
[[gnu::always_inline]] inline char* format_six_digits(char* p, uint32_t v) {
  return decimal_detail::two(decimal_detail::four(p, v / 100), v % 100);
}

}  // namespace rsthop
