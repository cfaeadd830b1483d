// The free helpers of packet_builder.h: addresses, checksums, truncation.
#include <arpa/inet.h>

#include <algorithm>
#include <stdexcept>

#include "tests/common/packet_builder.h"

namespace rsthop::test {

Bytes parse_addr(std::string_view text) {
  std::string s(text);
  if (s.find(':') != std::string::npos) {
    Bytes out(16);
    if (inet_pton(AF_INET6, s.c_str(), out.data()) != 1) throw std::invalid_argument("bad IPv6 address: " + s);
    return out;
  }
  Bytes out(4);
  if (inet_pton(AF_INET, s.c_str(), out.data()) != 1) throw std::invalid_argument("bad IPv4 address: " + s);
  return out;
}

std::array<uint8_t, 16> addr16(std::string_view text) {
  Bytes a = parse_addr(text);
  std::array<uint8_t, 16> out{};
  if (a.size() == 4) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::copy(a.begin(), a.end(), out.begin() + 12);
  } else {
    std::copy(a.begin(), a.end(), out.begin());
  }
  return out;
}

uint32_t csum_add(uint32_t sum, std::span<const uint8_t> bytes) {
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += static_cast<uint32_t>(bytes[i] << 8 | bytes[i + 1]);
  if (i < bytes.size()) sum += static_cast<uint32_t>(bytes[i] << 8);
  return sum;
}

uint16_t csum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

Bytes truncate(const Bytes& frame, size_t n) {
  return Bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(std::min(n, frame.size())));
}

}  // namespace rsthop::test
