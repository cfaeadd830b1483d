// fuzz_app_hint: flow::parse_app_hint() (TLS ClientHello SNI, HTTP request
// line and Host) on a connection's first payload.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <span>

#include "flow/app_hint.h"
#include "fuzz_check.h"

namespace {
bool host_chars(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
  });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rsthop::flow::AppHint h;
  bool ok = rsthop::flow::parse_app_hint(std::span<const uint8_t>(data, size), h);
  if (!ok) FUZZ_CHECK(h.tls_sni.empty() && h.http_host.empty() && h.http_request.empty());
  FUZZ_CHECK(h.tls_sni.size() <= size && h.http_host.size() <= size && h.http_request.size() <= size);
  FUZZ_CHECK(h.http_request.size() <= 256);
  FUZZ_CHECK(host_chars(h.tls_sni) && host_chars(h.http_host));
  FUZZ_CHECK(h.tls_sni.empty() || h.http_host.empty());
  return 0;
}
