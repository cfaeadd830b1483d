#include "output/json_writer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/decimal.h"

namespace rsthop::output {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// 0: copy as is; 1: needs an escape; 2: not ASCII (UTF-8 decoding needed).
constexpr std::array<uint8_t, 256> kClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; c++) t[c] = 1;
  t['"'] = t['\\'] = 1;
  for (int c = 0x80; c < 0x100; c++) t[c] = 2;
  return t;
}();

char* escape_byte(char* p, uint8_t c) {
  *p++ = '\\';
  switch (c) {
    case '\b':
      *p++ = 'b';
      return p;
    case '\t':
      *p++ = 't';
      return p;
    case '\n':
      *p++ = 'n';
      return p;
    case '\f':
      *p++ = 'f';
      return p;
    case '\r':
      *p++ = 'r';
      return p;
    case '"':
      *p++ = '"';
      return p;
    case '\\':
      *p++ = '\\';
      return p;
    default:
      std::memcpy(p, "u00", 3);
      p[3] = kHex[c >> 4];
      p[4] = kHex[c & 0xf];
      return p + 5;
  }
}

// Bjoern Hoehrmann's UTF-8 DFA, the table nlohmann's serializer uses.
constexpr uint8_t kUtf8Accept = 0, kUtf8Reject = 1;
constexpr std::array<uint8_t, 400> kUtf8 = {{
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  // 00..1F
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  // 20..3F
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  // 40..5F
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  // 60..7F
    1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
    9,   9,   9,   9,   9,   9,   9,   9,   9,   9,   9,   9,   9,   9,   9,   9,  // 80..9F
    7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,
    7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,   7,  // A0..BF
    8,   8,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,
    2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,    // C0..DF
    0xA, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x4, 0x3, 0x3,  // E0..EF
    0xB, 0x6, 0x6, 0x6, 0x5, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8,  // F0..FF
    0x0, 0x1, 0x2, 0x3, 0x5, 0x8, 0x7, 0x1, 0x1, 0x1, 0x4, 0x6, 0x1, 0x1, 0x1, 0x1,  // s0..s0
    1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
    1,   0,   1,   1,   1,   1,   1,   0,   1,   0,   1,   1,   1,   1,   1,   1,  // s1..s2
    1,   2,   1,   1,   1,   1,   1,   2,   1,   2,   1,   1,   1,   1,   1,   1,
    1,   1,   1,   1,   1,   1,   1,   2,   1,   1,   1,   1,   1,   1,   1,   1,  // s3..s4
    1,   2,   1,   1,   1,   1,   1,   1,   1,   2,   1,   1,   1,   1,   1,   1,
    1,   1,   1,   1,   1,   1,   1,   3,   1,   3,   1,   1,   1,   1,   1,   1,  // s5..s6
    1,   3,   1,   1,   1,   1,   1,   3,   1,   3,   1,   1,   1,   1,   1,   1,
    1,   3,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  // s7..s8
}};

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// The rest of a string once a non-ASCII byte shows up, starting on a code
// point boundary.  Mirrors nlohmann's dump_escaped with the replace handler:
// a rejected sequence is cut back to the last complete code point and
// replaced by one U+FFFD, and the byte that broke a sequence is read again
// as a possible start of the next one.  At most 6 output bytes per input byte.
char* escape_utf8_tail(char* p, std::string_view s) {
  uint8_t state = kUtf8Accept;
  uint32_t codepoint = 0;
  char* after_last_accept = p;
  size_t undumped = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto byte = static_cast<uint8_t>(s[i]);
    const uint8_t type = kUtf8[byte];
    codepoint = state != kUtf8Accept ? (byte & 0x3fu) | (codepoint << 6u) : (0xffu >> type) & byte;
    state = kUtf8[256u + state * 16u + type];
    if (state == kUtf8Accept) {
      if (codepoint < 0x20 || codepoint == '"' || codepoint == '\\') {
        p = escape_byte(p, static_cast<uint8_t>(codepoint));
      } else {
        *p++ = s[i];
      }
      after_last_accept = p;
      undumped = 0;
    } else if (state == kUtf8Reject) {
      if (undumped > 0) --i;
      p = after_last_accept;
      std::memcpy(p, kReplacement, 3);
      p += 3;
      after_last_accept = p;
      undumped = 0;
      state = kUtf8Accept;
    } else {
      *p++ = s[i];
      ++undumped;
    }
  }
  if (state != kUtf8Accept) {  // cut short inside a sequence
    p = after_last_accept;
    std::memcpy(p, kReplacement, 3);
    p += 3;
  }
  return p;
}

// True when none of the 8 bytes at s needs the table: no control byte, `"`,
// `\` or non-ASCII byte (the "has less than" word tests of Bit Twiddling
// Hacks, exact for "any byte" questions).  Lets the scan skip plain text a
// word at a time; a word that fails goes through the byte loop.
inline bool plain_word(const char* s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  uint64_t w;
  std::memcpy(&w, s, 8);
  const uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
  const uint64_t special = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
  return ((special | w) & kHigh) == 0;
}

#if defined(__SSE2__)
// plain_word() for 16 bytes: one signed compare below 0x20 catches the
// control bytes and the non-ASCII ones (negative as signed bytes) together.
inline bool plain_bytes(__m128i v) {
  const __m128i special =
      _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                   _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return _mm_movemask_epi8(special) == 0;
}
inline bool plain_block(const char* s) { return plain_bytes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s))); }
#else
inline bool plain_block(const char* s) { return plain_word(s) && plain_word(s + 8); }
#endif

// The length of the plain prefix of s that the block and word tests find:
// every byte before it needs no table; the byte at it may (or it is s's end).
inline size_t plain_prefix(std::string_view s) {
  const size_t n = s.size();
  if (n < 16) {  // a short text in two overlapping loads, or not at all
    if (n >= 8) return plain_word(s.data()) && plain_word(s.data() + n - 8) ? n : 0;
    if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, s.data(), 4);
      std::memcpy(&b, s.data() + n - 4, 4);
      const uint64_t w = a | (static_cast<uint64_t>(b) << 32);
      char both[8];
      std::memcpy(both, &w, 8);
      return plain_word(both) ? n : 0;
    }
    return 0;
  }
  size_t i = 0;
  while (i + 16 <= s.size() && plain_block(s.data() + i)) i += 16;
  // The last block, overlapping the ones before it, settles plain text of 16 bytes or more.
  if (i < s.size() && s.size() >= 16 && i + 16 > s.size() && plain_block(s.data() + s.size() - 16)) return s.size();
  while (i + 8 <= s.size() && plain_word(s.data() + i)) i += 8;
  return i;
}

#if defined(__SSE2__)
// For s of 16 bytes or more: copies its plain blocks to p as plain_prefix
// finds them, one load per block for the test and the copy, and returns how
// many bytes were found plain and copied (s.size() when all of them).  The
// last block overlaps the ones before it; p has room for s.size() bytes.
inline size_t copy_plain_blocks(char* p, std::string_view s) {
  const size_t n = s.size();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    if (!plain_bytes(v)) return i;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + i), v);
  }
  if (i == n) return n;
  if (!plain_block(s.data() + n - 16)) return i;
  std::memcpy(p + n - 16, s.data() + n - 16, 16);
  return n;
}
#endif

// escape_string() past the plain text its fast path finds: the text after
// the opening quote, at p, with the closing quote.  Out of line and cold, so
// that the fast path saves no registers for it.
[[gnu::noinline, gnu::cold]] char* escape_rest(char* p, std::string_view s) {
  size_t i = plain_prefix(s);
  // Fewer than 8 bytes left: the last word, overlapping the ones before it,
  // covers them, so plain text of 8 bytes or more never reaches the byte loop.
  if (i < s.size() && s.size() >= 8 && i + 8 > s.size() && plain_word(s.data() + s.size() - 8)) i = s.size();
  size_t run = 0;  // start of the bytes copied as they are, in one memcpy
  for (; i < s.size(); i++) {
    while (i + 8 <= s.size() && plain_word(s.data() + i)) i += 8;
    if (i == s.size()) break;
    const auto c = static_cast<uint8_t>(s[i]);
    if (kClass[c] == 0) continue;
    std::memcpy(p, s.data() + run, i - run);
    p += i - run;
    if (kClass[c] == 2) {
      p = escape_utf8_tail(p, s.substr(i));
      *p++ = '"';
      return p;
    }
    p = escape_byte(p, c);
    run = i + 1;
  }
  std::memcpy(p, s.data() + run, s.size() - run);
  p += s.size() - run;
  *p++ = '"';
  return p;
}

// Writes `s` quoted and escaped at p, which has room for 6 * s.size() + 2.
// The common case inline: plain text, copied as it is scanned.
inline char* escape_string(char* p, std::string_view s) {
  *p++ = '"';
  const size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 16) {
    if (copy_plain_blocks(p, s) != n) return escape_rest(p, s);
    p += n;
    *p++ = '"';
    return p;
  }
#endif
  if (plain_prefix(s) != n) return escape_rest(p, s);
  copy_short(p, s.data(), n);
  p += n;
  *p++ = '"';
  return p;
}

size_t escaped_max(std::string_view s) { return 6 * s.size() + 2; }

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  size_t at = out.size();
  out.resize(at + escaped_max(s));
  char* end = escape_string(out.data() + at, s);
  out.resize(static_cast<size_t>(end - out.data()));
}

JsonWriter::JsonWriter(std::string& out) : out_(out) {
  // Room for a typical event line up front; grow() handles the rest.
  size_t at = out_.size();
  out_.resize(at + 1024);
  pos_ = out_.data() + at;
  end_ = out_.data() + out_.size();
}

void JsonWriter::grow(size_t n) {
  size_t used = static_cast<size_t>(pos_ - out_.data());
  out_.resize(used + std::max<size_t>(n, 1024));  // std::string grows its capacity geometrically
  pos_ = out_.data() + used;
  end_ = out_.data() + out_.size();
}

void JsonWriter::string(std::string_view v) {
  char* p = separate(escaped_max(v));
  pos_ = escape_string(p, v);
}

void JsonWriter::uint(uint64_t v) { pos_ = format_decimal(separate(kDecimalMax), v); }

void JsonWriter::sint(int64_t v) { pos_ = format_decimal(separate(kDecimalMax), v); }

namespace {

constexpr double kPow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
constexpr uint64_t kPow10Int[] = {1, 10, 100, 1000, 10000, 100000, 1000000};

// real()'s text without std::to_chars for the common case: |v| * 10^decimals
// below 2^53 and not within a hair of a rounding tie, so rounding the scaled
// double gives the very digits of the exact value's correct rounding (the
// scaling errs by an ulp or two, far less than the margin).  Returns the end
// of the text, or nullptr to let to_chars decide (ties, -0, large values).
char* fixed_fast(char* out, double v, int decimals) {
  if (decimals > 6 || !(std::fabs(v) < 1e15)) return nullptr;  // 1e15: the shortest form's threshold in real()
  const double scaled = std::fabs(v) * kPow10[decimals];
  if (!(scaled < 9e15)) return nullptr;
  const auto fl = static_cast<uint64_t>(scaled);  // truncation: the floor of a non-negative value
  const double frac = scaled - static_cast<double>(fl);
  if (std::fabs(frac - 0.5) < 1e-6 * (1 + scaled * 1e-9)) return nullptr;
  const uint64_t m = fl + (frac > 0.5 ? 1 : 0);
  if (m == 0 && std::signbit(v)) return nullptr;  // to_chars keeps the sign of -0.00
  const uint64_t unit = kPow10Int[decimals];
  const uint64_t whole = m / unit;
  const uint64_t decimal = m % unit;
  char* p = out;
  if (std::signbit(v)) *p++ = '-';
  if (whole < 10)
    *p++ = static_cast<char>('0' + whole);
  else
    p = format_decimal(p, whole);
  *p++ = '.';
  // The decimals with their leading zeros, as six digits from the pair
  // table (decimals <= 6, the zeros past them trimmed with the others), then
  // the trailing zeros trimmed (one kept).
  format_six_digits(p, static_cast<uint32_t>(decimal * kPow10Int[6 - decimals]));
  int len = 6;
  while (len > 1 && p[len - 1] == '0') len--;
  return p + len;
}

// fixed_fast() for two decimals (weights, confidences), the same arithmetic
// with constant divisors: "0.3", "-0.15", "1.0".
char* fixed2_fast(char* out, double v) {
  const double a = std::fabs(v);
  if (!(a < 1e13)) return nullptr;  // fixed_fast() decides larger values
  const double scaled = a * kPow10[2];
  const auto fl = static_cast<uint64_t>(scaled);
  const double frac = scaled - static_cast<double>(fl);
  if (std::fabs(frac - 0.5) < 1e-6 * (1 + scaled * 1e-9)) return nullptr;
  const uint64_t m = fl + (frac > 0.5 ? 1 : 0);
  char* p = out;
  if (std::signbit(v)) {
    if (m == 0) return nullptr;
    *p++ = '-';
  }
  const uint64_t whole = m / 100;
  const auto decimal = static_cast<unsigned>(m % 100);
  if (whole < 10)
    *p++ = static_cast<char>('0' + whole);
  else
    p = format_decimal(p, whole);
  *p++ = '.';
  *p++ = static_cast<char>('0' + decimal / 10);
  if (decimal % 10) *p++ = static_cast<char>('0' + decimal % 10);
  return p;
}

}  // namespace

void JsonWriter::real(double v, int decimals) {
  if (!std::isfinite(v)) {
    char* p = separate(4);
    std::memcpy(p, "null", 4);
    pos_ = p + 4;
    return;
  }
  decimals = std::clamp(decimals, 0, 17);  // keeps the text inside buf
  char buf[64];
  char* end;
  if (char* fast2 = decimals == 2 ? fixed2_fast(buf, v) : nullptr) {
    end = fast2;
  } else if (char* fast = fixed_fast(buf, v, decimals)) {
    end = fast;
  } else if (std::fabs(v) < 1e15) {
    end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals).ptr;
    char* dot = std::find(buf, end, '.');
    if (dot == end) {
      *end++ = '.';
      *end++ = '0';
    } else {
      while (end > dot + 2 && end[-1] == '0') --end;
    }
  } else {
    // Beyond any duration rsthop measures; the shortest exact form (it may
    // use an exponent, which is valid JSON and still a float).
    end = std::to_chars(buf, buf + sizeof(buf), v).ptr;
  }
  size_t n = static_cast<size_t>(end - buf);
  // One fixed-size copy for the usual short text (the bytes past it land in
  // the scratch space beyond pos_), memcpy for the rest.
  constexpr size_t kShort = 24;
  char* p = separate(std::max(n, kShort));
  std::memcpy(p, buf, n <= kShort ? kShort : n);
  pos_ = p + n;
}

}  // namespace rsthop::output
