// Capture files in: pcap and pcapng through libpcap, plain or gzip'd, from a
// path or from standard input ("-"), with an optional BPF filter expression.
//
// Limits (libpcap 1.10): a pcapng file whose interfaces have different link
// types is refused by libpcap itself ("an interface has a type ... different
// from the type of the first interface"), and the interface a packet came in
// on is not reported per packet, so events carry ifindex 0.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "common/result.h"
#include "pcap/chunked_pcap.h"

namespace rsthop::pcap {

// One record of the file, valid until the next call to Reader::next().
struct Record {
  std::span<const uint8_t> bytes;  // the captured bytes (caplen)
  uint32_t wire_len = 0;           // the packet's length on the wire
  uint64_t ts_ns = 0;              // capture time, Unix ns
  uint64_t frame = 0;              // 1-based, counting every record of the file (filtered ones too)
  bool matched = true;             // false: the --filter expression rejected it
};

// Where the IP header starts for a link type: the offset, whether the bytes
// from there are an Ethernet header (has_l2), or the enum rh_counter cause
// (RH_C_TRUNC_L2, RH_C_NON_TCP) when the frame holds no IP packet.
struct L3Start {
  size_t offset = 0;
  bool has_l2 = false;
  int cause = 0;
};
bool link_supported(int dlt);
L3Start link_l3_of(int dlt, std::span<const uint8_t> frame);  // any link type (link_l3's out-of-line road)
inline constexpr int kDltEthernet = 1;                        // DLT_EN10MB (checked in reader.cpp)
// Inline for Ethernet, whose IP header starts after the frame's Ethernet header: once per record.
inline L3Start link_l3(int dlt, std::span<const uint8_t> frame) {
  if (dlt == kDltEthernet) return {0, true, 0};
  return link_l3_of(dlt, frame);
}
// "EN10MB", "LINUX_SLL", ... (libpcap's names), or "DLT <n>".
std::string link_name(int dlt);

// Checks a --filter expression once, for Ethernet, before any file is opened:
// "bad --filter expression: <libpcap's reason>".
Result<void> check_filter(const std::string& filter);

class Reader {
 public:
  // Called once when `path` is a FIFO no writer has opened after a second
  // (its open would otherwise block without a word); the open then waits on.
  using Waiting = std::function<void(const std::string& message)>;

  // A plain classic pcap file is read in chunks of this many bytes (tests make it small).  256 KiB:
  // in interleaved runs of analyze no slower than 1 MiB (user time a little lower) or 4 MiB.
  static constexpr size_t kReadChunk = size_t{1} << 18;

  // Opens `path` ("-": standard input).  Errors name the file: "<path>: ...".
  // `filter`, when not empty, is compiled for the file's link type.
  static Result<std::unique_ptr<Reader>> open(const std::string& path, const std::string& filter = {},
                                              const Waiting& waiting = {}, size_t read_chunk = kReadChunk);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  enum class Next { record, end, error };
  // The next record; on `error`, error() says why (libpcap's reason) and the
  // file cannot be read further.  Inline (below): once per record, in both of
  // analyze's passes; a call saved and restored six registers per record.
  Next next(Record& out);
  const std::string& error() const { return error_; }

  int linktype() const { return dlt_; }
  bool gzipped() const { return gzipped_; }
  const std::string& name() const { return name_; }

 private:
  struct Impl;
  explicit Reader(std::unique_ptr<Impl> impl);
  // Takes `f` (libpcap closes it) and opens the capture in it.
  // `gz` is the zlib stream under `f` (nullptr for a plain file): its errors say more than errno.
  static Result<std::unique_ptr<Reader>> finish_open(const std::string& name, std::FILE* f, void* gz,
                                                     const std::string& filter);
  Next deliver(Record& out, const ::pcap_pkthdr& h, const uint8_t* data);  // one record, numbered and filtered
  bool matches(const ::pcap_pkthdr& h, const uint8_t* data) const;         // the --filter program's verdict
  Next next_libpcap(Record& out);  // next()'s road through libpcap (out of line: next() stays short)
  std::unique_ptr<Impl> impl_;
  ChunkedPcap* chunked_ = nullptr;  // impl_'s chunked road while it reads (nullptr: libpcap's)
  bool have_prog_ = false;          // a --filter program to run
  std::string name_, error_;
  int dlt_ = 0;
  bool gzipped_ = false;
  uint64_t frame_ = 0;
};

// The filter runs here rather than through pcap_setfilter, so frame numbers
// count every record, as Wireshark numbers them.
[[gnu::always_inline]] inline Reader::Next Reader::deliver(Record& out, const ::pcap_pkthdr& h, const uint8_t* data) {
  out.bytes = {data, h.caplen};
  out.wire_len = h.len;
  out.ts_ns = static_cast<uint64_t>(h.ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(h.ts.tv_usec);
  out.frame = ++frame_;
  out.matched = !have_prog_ || matches(h, data);
  return Next::record;
}

[[gnu::always_inline]] inline Reader::Next Reader::next(Record& out) {
  ::pcap_pkthdr h;
  const uint8_t* data = nullptr;
  if (chunked_ && chunked_->next(h, data)) [[likely]]
    return deliver(out, h, data);
  return next_libpcap(out);
}

}  // namespace rsthop::pcap
