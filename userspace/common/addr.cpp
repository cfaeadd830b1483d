#include "common/addr.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

namespace rsthop {

bool is_v4mapped(const uint8_t* a) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a, prefix, 12) == 0;
}

std::string addr_to_string(const uint8_t* a) {
  char buf[kAddrTextMax];
  return std::string(buf, format_addr(buf, a));
}

std::string mac_to_string(const uint8_t* m) {
  char buf[kMacTextLen];
  return std::string(buf, format_mac(buf, m));
}

namespace {

// Each octet's decimal text with a dot after it, padded to 4 bytes, and its
// length with the dot: an IPv4 address is four 4-byte copies.
struct OctetText {
  char text[4];
  uint8_t len;
};
constexpr std::array<OctetText, 256> kOctets = [] {
  std::array<OctetText, 256> t{};
  for (unsigned v = 0; v < 256; v++) {
    uint8_t n = 0;
    if (v >= 100) t[v].text[n++] = static_cast<char>('0' + v / 100);
    if (v >= 10) t[v].text[n++] = static_cast<char>('0' + v / 10 % 10);
    t[v].text[n++] = static_cast<char>('0' + v % 10);
    t[v].text[n++] = '.';
    t[v].len = n;
  }
  return t;
}();

// Every byte's two hex digits, lowercase (format_mac) and uppercase (ECS).
template <bool kUpper>
constexpr std::array<char, 512> kHexPairs = [] {
  constexpr const char* digits = kUpper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::array<char, 512> t{};
  for (unsigned v = 0; v < 256; v++) {
    t[2 * v] = digits[v >> 4];
    t[2 * v + 1] = digits[v & 0xf];
  }
  return t;
}();

// Straight-line (the loop costs twice as much): the separators first, then
// each byte's pair over its slot.
template <bool kUpper>
[[gnu::always_inline]] inline size_t format_mac_with(char* out, const uint8_t* m, char sep) {
  const auto& pairs = kHexPairs<kUpper>;
  std::memset(out, sep, kMacTextLen);
  std::memcpy(out, &pairs[2 * m[0]], 2);
  std::memcpy(out + 3, &pairs[2 * m[1]], 2);
  std::memcpy(out + 6, &pairs[2 * m[2]], 2);
  std::memcpy(out + 9, &pairs[2 * m[3]], 2);
  std::memcpy(out + 12, &pairs[2 * m[4]], 2);
  std::memcpy(out + 15, &pairs[2 * m[5]], 2);
  return kMacTextLen;
}

}  // namespace

size_t format_addr(char* out, const uint8_t* a) {
  if (is_v4mapped(a)) {
    // Dotted quad from a table: glibc's inet_ntop formats IPv4 with sprintf.
    // Writes at most 16 bytes (the last octet's padding), inside kAddrTextMax.
    size_t n = 0;
    for (int i = 12; i < 16; i++) {
      const OctetText& o = kOctets[a[i]];
      std::memcpy(out + n, o.text, 4);
      n += o.len;
    }
    return n - 1;  // without the last dot
  }
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, a, buf, sizeof(buf)) == nullptr) return 0;
  size_t n = std::strlen(buf);
  std::memcpy(out, buf, n);
  return n;
}

size_t format_mac(char* out, const uint8_t* m) { return format_mac_with<false>(out, m, ':'); }

size_t format_mac_ecs(char* out, const uint8_t* m) { return format_mac_with<true>(out, m, '-'); }

std::string mac_to_ecs_string(const uint8_t* m) {
  char buf[kMacTextLen];
  return std::string(buf, format_mac_ecs(buf, m));
}

Result<Addr16> parse_addr(std::string_view text) {
  std::string s(text);
  Addr16 out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) return out;
  return make_error("'" + s + "' is not an IPv4 or IPv6 address", EINVAL);
}

bool Cidr::contains(const uint8_t* a) const {
  for (int i = 0; i < 16; i++) {
    if ((a[i] & mask[i]) != addr[i]) return false;
  }
  return true;
}

Result<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto addr = parse_addr(text.substr(0, slash));
  if (!addr)
    return make_error("'" + std::string(text) + "' is not a CIDR such as 198.18.0.0/15 or 2001:db8::/32", EINVAL);
  int max_len = is_v4mapped(addr->data()) ? 32 : 128;
  int len = max_len;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc() || p != digits.data() + digits.size() || len < 0 || len > max_len)
      return make_error("'" + std::string(text) + "' has a prefix length outside 0.." + std::to_string(max_len),
                        EINVAL);
  }
  int bits = len + (max_len == 32 ? 96 : 0);
  Cidr c;
  for (int i = 0; i < 16; i++) {
    int b = bits - i * 8;
    c.mask[i] = b >= 8 ? 0xff : b <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - b));
    c.addr[i] = (*addr)[i] & c.mask[i];
  }
  return c;
}

}  // namespace rsthop
