// What the attribution engine concludes about one reset (or burst), and why.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/decimal.h"

namespace rsthop::attribution {

// Who sent a reset.  The names are the JSON values (reset.origin, verdict.origin): do not rename.
enum class Origin { endpoint, middlebox, local, unknown };
// Cloudflare Radar's connection-tampering stages: when in the connection the reset came.
enum class Stage { post_syn, post_ack, post_psh, later };

// One name table per enum (verdict.cpp); parse() is its inverse, nullopt for a name not in it.
const char* name(Origin o);
const char* name(Stage s);
std::optional<Origin> parse_origin(std::string_view s);
std::optional<Stage> parse_stage(std::string_view s);

// The name of a signal: one of rsthop's literals ("hop_distance", "race",
// "seq": lowercase, digits, '_', so it is written unescaped), never text
// built at run time, which is why it holds a view and not a string.  Only a
// string literal converts to it (consteval), so a std::string cannot slip
// in and dangle.
class SignalName {
 public:
  template <size_t N>
  consteval SignalName(const char (&name)[N]) : name_(name, N - 1) {}  // NOLINT: implicit on purpose
  std::string_view view() const { return name_; }
  operator std::string_view() const { return name_; }  // NOLINT: compares and appends like the text it is
  // One overload per kind of operand, each an exact match, so that neither
  // a literal nor another name makes the call ambiguous (C++20 also tries
  // the reversed order).
  friend bool operator==(SignalName a, SignalName b) { return a.name_ == b.name_; }
  friend bool operator==(SignalName a, std::string_view b) { return a.name_ == b; }
  friend bool operator==(SignalName a, const char* b) { return a.name_ == b; }

 private:
  std::string_view name_;
};
std::ostream& operator<<(std::ostream& os, SignalName s);

// Appends the pieces to `out`: text as it is, integers in decimal (no
// temporary strings, one growth of `out` when its capacity is short).
template <typename... Pieces>
void append(std::string& out, const Pieces&... pieces);

// Text held in place up to kInline bytes and on the heap past that: the two
// texts of a signal, built for every reset, take no heap block in the common
// case (the longest seen in Zeek's traces is 90 bytes).  append() as the
// free function's.  128 bytes: the overflow is a pointer, not a std::string
// in place, so that six Evidence fit one block of malloc's per-thread cache.
class InlineText {
 public:
  static constexpr size_t kInline = 112;
  InlineText() = default;
  InlineText(const InlineText& o) { *this = o; }
  InlineText(InlineText&& o) noexcept = default;
  InlineText& operator=(const InlineText& o) {
    if (this == &o) return *this;
    std::memcpy(buf_, o.buf_, o.len_);
    len_ = o.len_;
    heap_ = o.heap_ ? std::make_unique<std::string>(*o.heap_) : nullptr;
    return *this;
  }
  InlineText& operator=(InlineText&& o) noexcept = default;

  template <typename... Pieces>
  void append(const Pieces&... pieces);
  std::string_view view() const { return heap_ ? std::string_view(*heap_) : std::string_view(buf_, len_); }
  size_t size() const { return heap_ ? heap_->size() : len_; }

 private:
  // append()'s pieces once detail::piece() has made them views and 64-bit integers.
  template <typename... Views>
  void append_pieces(const Views&... pieces);

  char buf_[kInline] = {};
  uint8_t len_ = 0;
  std::unique_ptr<std::string> heap_;  // past kInline: all of the text
};

// One piece of evidence: what was observed, what an endpoint reset would look
// like, and how far it moves the verdict (> 0 towards a middlebox, < 0 towards
// the endpoint, 0 for context).  The two texts share one buffer, observed
// first: built once, in place, by obs() then exp(), or by the constructor
// from finished texts.
class Evidence {
 public:
  Evidence(SignalName signal, double weight, bool strong = false) : signal(signal), weight(weight), strong(strong) {}
  Evidence(SignalName signal, std::string_view observed, std::string_view expected, double weight, bool strong = false);

  // Append to the observed text (only before exp()), then to the expected text.
  template <typename... Pieces>
  Evidence& obs(const Pieces&... pieces) & {
    text_.append(pieces...);
    observed_len_ = static_cast<uint32_t>(text_.size());
    return *this;
  }
  template <typename... Pieces>
  Evidence& exp(const Pieces&... pieces) & {
    text_.append(pieces...);
    return *this;
  }
  template <typename... Pieces>
  Evidence&& obs(const Pieces&... pieces) && {
    return std::move(obs(pieces...));
  }
  template <typename... Pieces>
  Evidence&& exp(const Pieces&... pieces) && {
    return std::move(exp(pieces...));
  }

  std::string_view observed() const { return text_.view().substr(0, observed_len_); }
  std::string_view expected() const { return text_.view().substr(observed_len_); }

  SignalName signal;
  double weight = 0;
  bool strong = false;  // an endpoint's own RST cannot produce it (not rendered: it only steers the decision)

 private:
  uint32_t observed_len_ = 0;  // beside `strong`: 160 bytes in all (static_assert below)
  InlineText text_;            // observed, then expected
};
// The Evidence remote_evidence() reserves room for: a typical reset fires 5-8
// signals, and six (960 bytes) stay inside glibc's per-thread cache of blocks
// up to 1,032 bytes, which eight of 192 bytes did not.
inline constexpr size_t kEvidenceReserved = 6;
static_assert(sizeof(Evidence) * kEvidenceReserved <= 1032);

// One value per RST of a burst, for the first kMaxValues RSTs (the flow
// timeline keeps no more: flow::kMaxBurstDetail), held in place: a
// fingerprint's arrays take no heap block.  push_back() past kMaxValues
// keeps the first ones.
template <typename T>
class BurstValues {
 public:
  static constexpr size_t kMaxValues = 16;
  BurstValues() = default;
  BurstValues(std::initializer_list<T> values) {
    for (const T& v : values) push_back(v);
  }
  void push_back(T v) {
    if (n_ < kMaxValues) v_[n_++] = v;
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  const T* begin() const { return v_.data(); }
  const T* end() const { return v_.data() + n_; }
  const T* data() const { return v_.data(); }
  const T& operator[](size_t i) const { return v_[i]; }
  const T& front() const { return v_[0]; }
  const T& back() const { return v_[n_ - 1]; }
  friend bool operator==(const BurstValues& a, const BurstValues& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const BurstValues& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::array<T, kMaxValues> v_{};
  size_t n_ = 0;
};

// The injector's signature, to recognise a device across connections.
struct Fingerprint {
  uint32_t count = 0;
  std::string flags;  // the distinct flag strings, in order, comma-separated ("RA", "R,RA")
  BurstValues<uint16_t> windows;
  BurstValues<uint16_t> ip_ids;
  std::string ip_id_pattern;  // zero | constant | incrementing | random | n/a
  BurstValues<uint8_t> ttls;
  std::string ttl_pattern;           // constant | varying | per_connection
  BurstValues<int64_t> seq_offsets;  // relative to the sender's next expected seq, when known
  std::string id;                    // compact form of all of the above (Engine::classify builds it last)
};
// gtest and logs print the values.
template <typename T>
std::ostream& operator<<(std::ostream& os, const BurstValues<T>& v) {
  os << '{';
  for (size_t i = 0; i < v.size(); i++) os << (i ? ", " : "") << +v[i];
  return os << '}';
}

// RST diagnostic payload (draft-ietf-tcpm-rst-diagnostic-payload).
struct RstDiagnostic {
  uint16_t reason_code = 0;
  std::optional<uint32_t> enterprise;
  std::string text;
};

struct Verdict {
  Origin origin = Origin::unknown;
  std::optional<int> hop;           // hop of the RST's sender (0: this host); JSON "hops"
  std::optional<int> endpoint_hop;  // hop of the peer it claims to be; JSON "endpoint_hops"
  double confidence = 0;            // 0..1
  std::string summary;              // one sentence for people
  Stage stage = Stage::later;
  std::vector<Evidence> evidence;
  bool conflicting = false;  // signals pointed both ways
  std::optional<std::array<uint8_t, 6>> l2_mac;
  std::string l2_vendor;
  std::string payload_text;
  std::optional<RstDiagnostic> diagnostic;
  Fingerprint fingerprint;
};

namespace detail {
constexpr size_t piece_size(std::string_view s) { return s.size(); }
template <std::integral T>
constexpr size_t piece_size(T) {
  return 20;
}
inline void put_piece(std::string& out, std::string_view s) { out.append(s); }
// Into a buffer with room for piece_size(): returns the end of what was written.
inline char* put_piece(char* out, std::string_view s) {
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}
template <std::integral T>
char* put_piece(char* out, T v) {
  return format_decimal(out, v);
}
template <std::integral T>
void put_piece(std::string& out, T v) {
  char buf[kDecimalMax];
  out.append(buf, format_decimal(buf, v));
}
template <typename P>
concept Integer = std::integral<P> && !std::same_as<P, char> && !std::same_as<P, bool>;
template <typename P>
[[gnu::always_inline]] inline decltype(auto) piece(const P& p) {
  if constexpr (Integer<P>)
    return static_cast<std::conditional_t<std::is_signed_v<P>, int64_t, uint64_t>>(p);
  else
    return std::string_view(p);
}

template <typename... Views>
void append_pieces(std::string& out, const Views&... pieces) {
  out.reserve(out.size() + (piece_size(pieces) + ... + 0));
  (put_piece(out, pieces), ...);
}
}  // namespace detail

// The pieces become views and integers at the call site, inlined, where a
// literal's length is a constant (no strlen per piece), then go out of line.
template <typename... Pieces>
[[gnu::always_inline]] inline void append(std::string& out, const Pieces&... pieces) {
  detail::append_pieces(out, detail::piece(pieces)...);
}

template <typename... Pieces>
[[gnu::always_inline]] inline void InlineText::append(const Pieces&... pieces) {
  append_pieces(detail::piece(pieces)...);
}

template <typename... Views>
void InlineText::append_pieces(const Views&... pieces) {
  const size_t most = (detail::piece_size(pieces) + ... + 0);
  if (!heap_ && len_ + most <= kInline) {
    char* p = buf_ + len_;
    ((p = detail::put_piece(p, pieces)), ...);
    len_ = static_cast<uint8_t>(p - buf_);
    return;
  }
  if (!heap_) heap_ = std::make_unique<std::string>(buf_, len_);
  detail::append_pieces(*heap_, pieces...);
}

}  // namespace rsthop::attribution
