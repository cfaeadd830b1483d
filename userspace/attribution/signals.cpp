#include "attribution/signals.h"

#include <algorithm>
#include <cctype>

namespace rsthop::attribution {

int initial_ttl(int ttl) {
  for (int i : {32, 64, 128}) {
    if (ttl <= i) return i;
  }
  return 255;
}

int hops_from_ttl(int ttl, bool at_egress) { return initial_ttl(ttl) - ttl + (at_egress ? 0 : 1); }

std::string payload_text(std::span<const uint8_t> payload) {
  std::string out;
  out.reserve(payload.size());
  size_t printable = 0;
  for (uint8_t c : payload) {
    if (c == 0) break;
    if (std::isprint(c) || c == ' ') printable++;
    out.push_back(std::isprint(c) ? static_cast<char>(c) : '.');
  }
  // Mostly printable and long enough to be words, not a binary header.
  if (out.size() < 4 || printable * 10 < out.size() * 8) return "";
  return out;
}

std::optional<RstDiagnostic> rst_diagnostic(std::span<const uint8_t> p) {
  if (p.size() < 4 || p[0] != 0x33 || p[1] != 0xAA) return std::nullopt;
  RstDiagnostic d;
  d.reason_code = static_cast<uint16_t>((p[2] << 8) | p[3]);
  if (p.size() >= 8) d.enterprise = (static_cast<uint32_t>(p[4]) << 24) | (p[5] << 16) | (p[6] << 8) | p[7];
  if (p.size() > 8) d.text = payload_text(p.subspan(8));
  return d;
}

std::string ip_id_pattern(std::span<const uint16_t> ids, bool ipv6) {
  if (ipv6 || ids.empty()) return "n/a";
  if (std::all_of(ids.begin(), ids.end(), [](uint16_t v) { return v == 0; })) return "zero";
  if (ids.size() == 1) return "single";
  if (std::all_of(ids.begin(), ids.end(), [&](uint16_t v) { return v == ids[0]; })) return "constant";
  bool inc = true;
  for (size_t i = 1; i < ids.size(); i++) {
    uint16_t d = static_cast<uint16_t>(ids[i] - ids[i - 1]);
    if (d == 0 || d > 64) inc = false;
  }
  return inc ? "incrementing" : "random";
}

}  // namespace rsthop::attribution
