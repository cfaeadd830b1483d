// A streaming JSON writer for the event hot path: appends compact JSON to a
// caller's std::string, with no document tree and no allocation beyond the
// string's own growth.  The caller keeps the nesting straight (every begin_*
// has its end_*; a value inside an object follows a key); the writer only
// places the commas.
//
// String values are escaped byte for byte as nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) escapes them: `"` and `\`,
// control characters as \b \t \n \f \r or \u00XX, other bytes kept as UTF-8,
// every invalid UTF-8 sequence replaced by U+FFFD.  Keys are schema names
// (ASCII letters, digits, '_', '@') and are written as given, unescaped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace rsthop::output {

// memcpy for the short keys and names of the hot path, inlined: two
// overlapping word copies instead of a call into libc's dispatching memcpy
// (the drain's top self cost).  Copies exactly [src, src + n).
[[gnu::always_inline]] inline void copy_short(char* dst, const char* src, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    std::memcpy(&a, src, 4);
    std::memcpy(&b, src + n - 4, 4);
    std::memcpy(dst, &a, 4);
    std::memcpy(dst + n - 4, &b, 4);
  } else {
    std::memcpy(dst, src, n);
  }
}

// Appends `s` as a quoted, escaped JSON string (for callers without a writer).
void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
 public:
  // Decimals real() keeps by default: nanoseconds for a value in milliseconds.
  static constexpr int kRealDecimals = 6;

  // Until the writer is destroyed, `out` ends in scratch space the writer
  // fills through a raw pointer; the destructor trims it.  Read `out` only
  // after the writer is gone.
  explicit JsonWriter(std::string& out);
  ~JsonWriter() { out_.resize(static_cast<size_t>(pos_ - out_.data())); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // An object as a value: the document itself, or an array element.
  void begin_object() { open('{'); }
  void begin_object(std::string_view k) {
    key(k);
    open('{');
  }
  void end_object() { close('}'); }
  void begin_array(std::string_view k) {
    key(k);
    open('[');
  }
  void end_array() { close(']'); }

  [[gnu::always_inline]] void key(std::string_view k) {
    char* p = reserve(k.size() + 4);
    if (!first_) *p++ = ',';
    *p++ = '"';
    copy_short(p, k.data(), k.size());
    p += k.size();
    *p++ = '"';
    *p++ = ':';
    pos_ = p;
    first_ = true;  // the value that follows needs no comma
  }

  // Values: after key(), or as array elements.
  void string(std::string_view v);
  // A string from rsthop's own tables (names.h, schema enums), written
  // without the escaping scan: the caller vouches it is printable ASCII
  // without `"` or `\`.  Never for bytes that came off the wire.
  [[gnu::always_inline]] void plain(std::string_view v) {
    char* p = separate(v.size() + 2);
    *p++ = '"';
    copy_short(p, v.data(), v.size());
    p += v.size();
    *p++ = '"';
    pos_ = p;
  }
  void uint(uint64_t v);
  void sint(int64_t v);
  // Fixed notation with at most `decimals` decimals, trailing zeros trimmed
  // but always one kept ("1200.0", "0.12"), so the value stays a float to
  // typed consumers.  NaN and infinities are written as null, as nlohmann does.
  void real(double v, int decimals = kRealDecimals);
  void boolean(bool v) {
    char* p = separate(5);
    std::memcpy(p, v ? "true" : "false", v ? 4 : 5);
    pos_ = p + (v ? 4 : 5);
  }

  // A string whose text `format(char* dst)` writes in place, returning its
  // length (at most max_len), for text the caller vouches needs no escaping:
  // timestamps, addresses, hex.  No temporary, no escaping scan.
  template <typename Format>
  void verbatim(std::string_view k, size_t max_len, Format&& format) {
    key(k);
    char* p = separate(max_len + 2);
    *p++ = '"';
    p += format(p);
    *p++ = '"';
    pos_ = p;
  }

  // JSON text written by this writer's rules elsewhere (a cached run of
  // members, starting with its comma): appended as is; what follows it is a
  // sibling and gets a comma.
  void raw(std::string_view text) {
    char* p = reserve(text.size());
    std::memcpy(p, text.data(), text.size());
    pos_ = p + text.size();
    first_ = false;
  }

  // Where the next byte goes, and the text written since such a mark (valid
  // until the next write): to keep a run raw() appends later.
  size_t offset() const { return static_cast<size_t>(pos_ - out_.data()); }
  std::string_view since(size_t mark) const { return {out_.data() + mark, offset() - mark}; }

  // key + value in one call.
  void string(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void plain(std::string_view k, std::string_view v) {
    key(k);
    plain(v);
  }
  void uint(std::string_view k, uint64_t v) {
    key(k);
    uint(v);
  }
  void sint(std::string_view k, int64_t v) {
    key(k);
    sint(v);
  }
  void real(std::string_view k, double v, int decimals = kRealDecimals) {
    key(k);
    real(v, decimals);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    boolean(v);
  }

 private:
  // Room for n more bytes at pos_.
  char* reserve(size_t n) {
    if (static_cast<size_t>(end_ - pos_) < n) grow(n);
    return pos_;
  }
  [[gnu::cold, gnu::noinline]] void grow(size_t n);  // off the hot path: no register saves in every caller
  // The comma before a value when one is due, and room for n bytes after it.
  char* separate(size_t n) {
    char* p = reserve(n + 1);
    if (!first_) *p++ = ',';
    first_ = false;
    return p;
  }
  void open(char c) {
    char* p = separate(1);
    *p++ = c;
    pos_ = p;
    first_ = true;
  }
  // The container just closed was a value of its parent, so whatever comes
  // next in the parent needs a comma.
  void close(char c) {
    *reserve(1) = c;
    pos_++;
    first_ = false;
  }

  std::string& out_;
  char* pos_;
  char* end_;
  bool first_ = true;
};

}  // namespace rsthop::output
