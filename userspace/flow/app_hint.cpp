#include "flow/app_hint.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace rsthop::flow {
namespace {

// A bounds-checked big-endian reader over a byte span.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> d) : d_(d) {}
  bool u8(uint32_t& v) { return get(1, v); }
  bool u16(uint32_t& v) { return get(2, v); }
  bool u24(uint32_t& v) { return get(3, v); }
  bool skip(size_t n) {
    if (n > d_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  bool sub(size_t n, Reader& out) {
    n = std::min(n, d_.size() - pos_);  // a capture may cut the last field: keep what is there
    out = Reader(d_.subspan(pos_, n));
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> rest() const { return d_.subspan(pos_); }
  bool done() const { return pos_ >= d_.size(); }

 private:
  bool get(size_t n, uint32_t& v) {
    if (n > d_.size() - pos_) return false;
    v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | d_[pos_ + i];
    pos_ += n;
    return true;
  }
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

bool printable_host(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
  });
}

bool parse_tls(std::span<const uint8_t> data, AppHint& out) {
  Reader r(data);
  uint32_t type, ver, len, hs_type, hs_len, v;
  if (!r.u8(type) || type != 22 || !r.u16(ver) || (ver >> 8) != 3 || !r.u16(len)) return false;
  if (!r.u8(hs_type) || hs_type != 1 || !r.u24(hs_len)) return false;
  // client_version, random, session_id, cipher_suites, compression_methods
  if (!r.skip(2 + 32) || !r.u8(v) || !r.skip(v) || !r.u16(v) || !r.skip(v) || !r.u8(v) || !r.skip(v))
    return true;  // a ClientHello, cut before its extensions
  uint32_t ext_len;
  if (!r.u16(ext_len)) return true;
  Reader exts(r.rest());
  r.sub(ext_len, exts);
  while (!exts.done()) {
    uint32_t etype, elen;
    if (!exts.u16(etype) || !exts.u16(elen)) break;
    Reader e(exts.rest());
    exts.sub(elen, e);
    if (etype != 0) continue;  // server_name
    uint32_t list_len, name_type, name_len;
    if (!e.u16(list_len) || !e.u8(name_type) || name_type != 0 || !e.u16(name_len)) break;
    auto rest = e.rest();
    if (rest.size() < name_len) break;  // cut inside the name: a prefix names another host
    std::string_view name(reinterpret_cast<const char*>(rest.data()), name_len);
    if (printable_host(name)) out.tls_sni = std::string(name);
    break;
  }
  return true;
}

bool parse_http(std::span<const uint8_t> data, AppHint& out) {
  std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
  static constexpr std::string_view kMethods[] = {"GET ",     "POST ",  "HEAD ",    "PUT ",  "DELETE ",
                                                  "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  if (std::none_of(std::begin(kMethods), std::end(kMethods), [&](std::string_view m) { return s.starts_with(m); }))
    return false;
  auto eol = s.find("\r\n");
  auto line = s.substr(0, eol == std::string_view::npos ? std::min<size_t>(s.size(), 256) : eol);
  out.http_request = std::string(line.substr(0, 256));
  // Host header, case-insensitive, within what was captured.
  size_t pos = eol;
  while (pos != std::string_view::npos && pos + 2 < s.size()) {
    size_t start = pos + 2;
    size_t end = s.find("\r\n", start);
    if (end == std::string_view::npos) break;  // cut inside the line: a prefix names another host
    auto hdr = s.substr(start, end - start);
    if (hdr.empty()) break;
    if (hdr.size() > 5 && std::equal(hdr.begin(), hdr.begin() + 5, "host:", [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      auto v = hdr.substr(5);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      // url.domain carries no port; an IPv6 literal keeps its brackets.
      if (!v.empty() && v.front() == '[')
        v = v.substr(0, v.find(']') == std::string_view::npos ? 0 : v.find(']') + 1);
      else
        v = v.substr(0, v.find(':'));
      if (printable_host(v)) out.http_host = std::string(v);
      break;
    }
    pos = end;
  }
  return true;
}

}  // namespace

bool parse_app_hint(std::span<const uint8_t> data, AppHint& out) {
  return parse_tls(data, out) || parse_http(data, out);
}

}  // namespace rsthop::flow
