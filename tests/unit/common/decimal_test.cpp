// format_decimal writes std::to_chars's text for every integer type and
// every digit count: the hot path's JSON integers and evidence texts use it.
#include "common/decimal.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace rsthop {
namespace {

template <typename T>
std::string ours(T v) {
  char buf[kDecimalMax + 4];
  std::memset(buf, '#', sizeof(buf));
  char* end = format_decimal(buf, v);
  EXPECT_LE(static_cast<size_t>(end - buf), kDecimalMax);
  EXPECT_EQ(buf[end - buf], '#') << "wrote past the end it returned";
  return std::string(buf, end);
}

template <typename T>
std::string theirs(T v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
}

// Every power of ten, one below and one above it, in both types' ranges.
std::vector<uint64_t> edges() {
  std::vector<uint64_t> out = {0, 1, 9, UINT32_MAX, uint64_t{UINT32_MAX} + 1, UINT64_MAX, UINT64_MAX - 1};
  for (uint64_t p = 1;; p *= 10) {
    out.push_back(p - 1);
    out.push_back(p);
    out.push_back(p + 1);
    if (p > UINT64_MAX / 10) break;
  }
  for (int b = 0; b < 64; b++) {
    out.push_back((uint64_t{1} << b) - 1);
    out.push_back(uint64_t{1} << b);
  }
  return out;
}

TEST(Decimal, EveryValueBelowAMillionAsToChars) {
  for (uint32_t v = 0; v < 1000000; v++) ASSERT_EQ(ours(v), theirs(v)) << v;
}

TEST(Decimal, TheEdgesOfEveryDigitCountAsToChars) {
  for (uint64_t v : edges()) {
    EXPECT_EQ(ours(v), theirs(v)) << v;
    const auto s = static_cast<int64_t>(v);
    EXPECT_EQ(ours(s), theirs(s)) << s;
    const auto negated = static_cast<int64_t>(uint64_t{0} - v);  // INT64_MIN's negation is itself
    EXPECT_EQ(ours(negated), theirs(negated)) << negated;
  }
  EXPECT_EQ(ours(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(ours(std::numeric_limits<int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(ours(UINT64_MAX), "18446744073709551615");
}

TEST(Decimal, RandomValuesOfEveryLengthAsToChars) {
  std::mt19937_64 rng(14);
  for (int bits = 1; bits <= 64; bits++) {
    const uint64_t mask = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
    for (int i = 0; i < 20000; i++) {
      const uint64_t v = rng() & mask;
      ASSERT_EQ(ours(v), theirs(v)) << v;
      const auto s = static_cast<int64_t>(v);
      ASSERT_EQ(ours(s), theirs(s)) << s;
      ASSERT_EQ(ours(static_cast<uint32_t>(v)), theirs(static_cast<uint32_t>(v)));
      ASSERT_EQ(ours(static_cast<int16_t>(v)), theirs(static_cast<int16_t>(v)));
    }
  }
}

TEST(Decimal, EveryThirtyTwoBitDigitCountBoundaryNeighbourhood) {
  // The 9- and 10-digit path divides by 10^8 in 32 bits: a window around
  // each of its quotient's steps.
  for (uint64_t q = 1; q <= 42; q++) {
    for (uint64_t d = 0; d < 2000; d++) {
      const uint64_t v = q * 100000000 - 1000 + d;
      if (v > UINT32_MAX) break;
      ASSERT_EQ(ours(static_cast<uint32_t>(v)), theirs(static_cast<uint32_t>(v))) << v;
    }
  }
}

TEST(Decimal, SixDigitsKeepTheirLeadingZeros) {
  char buf[8] = {};
  std::memset(buf, '#', sizeof(buf));
  for (uint32_t v : {0u, 1u, 9u, 10u, 99u, 100u, 1234u, 12345u, 123456u, 999999u}) {
    ASSERT_EQ(format_six_digits(buf, v), buf + 6);
    char want[8];
    std::snprintf(want, sizeof(want), "%06u", v);
    EXPECT_EQ(std::string(buf, 6), want);
    EXPECT_EQ(buf[6], '#');
  }
}

}  // namespace
}  // namespace rsthop
