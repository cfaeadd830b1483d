#include "output/json_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

namespace rsthop::output {
namespace {

using nlohmann::json;

// What nlohmann's dump printed for a string value before the streaming writer.
std::string nlohmann_quoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string escaped(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonString, EscapesLikeNlohmann) {
  const std::string cases[] = {
      "",
      "plain ascii",
      "quote \" backslash \\ slash /",
      std::string("nul \0 in the middle", 19),
      "\b\t\n\f\r\x01\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // valid 2-, 3- and 4-byte sequences
      "\xff\xfe",                                   // bytes that never start a sequence
      "\x80 lone continuation",
      "cut \xe2\x82",                // sequence cut short at the end
      "\xe2\x82 broken then ascii",  // broken by an ASCII byte, which must survive
      "\xe2\xe2\x82\xac",            // broken by the start of a valid sequence
      "\xc0\xaf overlong",
      "\xed\xa0\x80 surrogate",
      "\xf4\x90\x80\x80 beyond U+10FFFF",
      "\xc3\xa9\x01\xc3",
  };
  for (const auto& s : cases)
    EXPECT_EQ(escaped(s), nlohmann_quoted(s)) << json(s).dump(-1, ' ', true, json::error_handler_t::replace);
}

TEST(JsonString, RandomBytesEscapeLikeNlohmann) {
  std::mt19937 rng(42);
  // Bytes weighted towards the interesting ranges: controls, ASCII, UTF-8 lead and continuation bytes.
  const uint8_t alphabet[] = {0x00, 0x09, 0x1f, '"',  '\\', 'a',  0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf,
                              0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x82, 0xac, 0x9f, 0xa0};
  for (int n = 0; n < 20000; n++) {
    std::string s(rng() % 12, '\0');
    for (char& c : s) c = static_cast<char>(alphabet[rng() % sizeof(alphabet)]);
    ASSERT_EQ(escaped(s), nlohmann_quoted(s)) << json(s).dump(-1, ' ', true, json::error_handler_t::replace);
  }
}

// The block- and word-at-a-time scans and their overlapping last block and
// word: one byte to escape at every position of plain text of every length
// around the block and word sizes.
TEST(JsonString, OneSpecialByteAtEveryPositionEscapesLikeNlohmann) {
  for (size_t n = 1; n <= 72; n++) {
    const std::string plain(n, 'x');
    ASSERT_EQ(escaped(plain), nlohmann_quoted(plain)) << n;
    for (size_t at = 0; at < n; at++)
      for (char c : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', '\x80', '\xff'}) {
        std::string s = plain;
        s[at] = c;
        ASSERT_EQ(escaped(s), nlohmann_quoted(s)) << "length " << n << " at " << at << " byte " << int(c);
      }
  }
}

TEST(JsonWriter, NestingAndCommas) {
  std::string out = "x";
  {
    JsonWriter w(out);
    w.begin_object();
    w.string("s", "v");
    w.begin_object("empty");
    w.end_object();
    w.begin_array("a");
    w.uint(1);
    w.begin_object();
    w.boolean("t", true);
    w.end_object();
    w.sint(-2);
    w.end_array();
    w.begin_array("none");
    w.end_array();
    w.plain("p", "syn-ack");
    w.verbatim("v", 8, [](char* p) {
      std::memcpy(p, "abc", 3);
      return size_t{3};
    });
    w.boolean("f", false);
    w.end_object();
  }
  EXPECT_EQ(out, R"(x{"s":"v","empty":{},"a":[1,{"t":true},-2],"none":[],"p":"syn-ack","v":"abc","f":false})");
}

TEST(JsonWriter, IntegersAtTheirLimits) {
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.uint("u", std::numeric_limits<uint64_t>::max());
    w.sint("s", std::numeric_limits<int64_t>::min());
    w.uint("z", 0);
    w.end_object();
  }
  EXPECT_EQ(out, R"({"u":18446744073709551615,"s":-9223372036854775808,"z":0})");
}

std::string real_text(double v, int decimals = JsonWriter::kRealDecimals) {
  std::string out;
  {
    JsonWriter w(out);
    w.real(v, decimals);
  }
  return out;
}

TEST(JsonWriter, RealsAreFixedTrimmedAndStayFloats) {
  EXPECT_EQ(real_text(1200.0), "1200.0");
  EXPECT_EQ(real_text(0.12), "0.12");
  EXPECT_EQ(real_text(0.0), "0.0");
  EXPECT_EQ(real_text(-1.5), "-1.5");
  EXPECT_EQ(real_text(123.456789), "123.456789");
  EXPECT_EQ(real_text(0.0000004), "0.0");  // below the precision asked for
  EXPECT_EQ(real_text(3723.123456789, 9), "3723.123456789");
  EXPECT_EQ(real_text(2.5, 0), "2.0");  // round half to even, still a float
  EXPECT_EQ(real_text(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(real_text(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(json::parse(real_text(1e300)).get<double>(), 1e300);
  EXPECT_TRUE(json::parse(real_text(1200.0)).is_number_float());
  // A millisecond value from nanoseconds reads back as the very same double.
  for (uint64_t ns : {1ULL, 999'999ULL, 123'456'789ULL, 86'400'000'000'123ULL}) {
    double ms = static_cast<double>(ns) / 1e6;
    EXPECT_EQ(json::parse(real_text(ms)).get<double>(), ms) << ns;
  }
}

// real() before its fast path: std::to_chars fixed, trailing zeros trimmed, one kept.
std::string real_reference(double v, int decimals) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  if (!(std::fabs(v) < 1e15)) return std::string(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
  char* end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals).ptr;
  char* dot = std::find(buf, end, '.');
  if (dot == end) {
    *end++ = '.';
    *end++ = '0';
  } else {
    while (end > dot + 2 && end[-1] == '0') --end;
  }
  return std::string(buf, end);
}

TEST(JsonWriter, RealFastPathWritesWhatToCharsWrites) {
  // Ties, values just beside them, negative zero and its neighbours, the 1e15 threshold.
  const double cases[] = {0.125,
                          0.135,
                          2.5,
                          3.5,
                          -2.5,
                          1.005,
                          0.15,
                          0.85,
                          -0.3,
                          0.5,
                          -0.0,
                          -0.001,
                          -0.004,
                          1e-7,
                          0.0049999999,
                          0.995,
                          9.9999995,
                          999999.9999995,
                          1e15,
                          9.99e14,
                          4503599627370495.5,
                          123456789.123456789,
                          0.1 + 0.2,
                          1.0 / 3};
  for (double v : cases)
    for (int d = 0; d <= 9; d++) EXPECT_EQ(real_text(v, d), real_reference(v, d)) << v << " " << d;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(-1, 1);
  for (int n = 0; n < 200000; n++) {
    const double scale = std::pow(10.0, static_cast<int>(rng() % 16) - 6);
    double v = unit(rng) * scale;
    if (n % 3 == 0) v = std::round(v * 1000) / 1000 + (n % 2 ? 0.0005 : 0.005);  // near ties
    const int d = static_cast<int>(rng() % 8);
    ASSERT_EQ(real_text(v, d), real_reference(v, d)) << v << " " << d;
  }
}

TEST(JsonString, LongTextsEscapeLikeNlohmann) {
  // Mostly plain text, so the word-at-a-time scan runs, with a special byte anywhere in a word.
  std::mt19937 rng(11);
  const uint8_t special[] = {0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xc3, 0xa9, 0xe2, 0xff, 0x20, 0x21, 0x23, 0x5b, 0x5d};
  for (int n = 0; n < 20000; n++) {
    std::string s(rng() % 64, 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    for (unsigned k = rng() % 3; k > 0 && !s.empty(); k--)
      s[rng() % s.size()] = static_cast<char>(special[rng() % sizeof(special)]);
    ASSERT_EQ(escaped(s), nlohmann_quoted(s)) << json(s).dump(-1, ' ', true, json::error_handler_t::replace);
  }
}

TEST(JsonWriter, LongLinesGrowTheBuffer) {
  std::string big(100'000, 'x');
  big[5] = '\n';
  std::string out;
  {
    JsonWriter w(out);
    w.begin_object();
    w.string("big", big);
    w.begin_array("n");
    for (int i = 0; i < 10'000; i++) w.uint(4'000'000'000u);
    w.end_array();
    w.end_object();
  }
  json j = json::parse(out);
  EXPECT_EQ(j["big"], big);
  EXPECT_EQ(j["n"].size(), 10'000u);
}

}  // namespace
}  // namespace rsthop::output

namespace rsthop::output {
namespace {

// copy_short's cases (two 4-byte or 8-byte words, memcpy): exactly [src, src + n), nothing beside it.
TEST(JsonWriter, CopyShortCopiesExactlyTheBytes) {
  const std::string src = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
  for (size_t n = 0; n <= 40; n++) {
    std::string dst(48, '.');
    copy_short(dst.data() + 2, src.data(), n);
    EXPECT_EQ(dst, std::string(2, '.') + src.substr(0, n) + std::string(46 - n, '.')) << n;
  }
}

}  // namespace
}  // namespace rsthop::output
