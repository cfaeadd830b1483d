// The fast road of pcap::Reader for a plain classic pcap file (version 2.4,
// micro- or nanosecond, either byte order): the file read with pread() in
// large chunks into one reused buffer and its records handed out in place
// from there, without libpcap's two fread() copies per record.  A record cut
// by a chunk's end is carried over to the front of the buffer and completed
// by the next read (the buffer grows for a record larger than a chunk).
// Only records libpcap would hand over unchanged are read here: the first
// one that is not (longer than the file's snapshot length, caplen above len,
// a timestamp field above 2^31, cut short by the file's end, a read error)
// stops the road at its offset, and the Reader's libpcap handle takes over
// from there, so errors and odd records read exactly as before.
//
// No mapping: a file another process truncates while it is read is then a
// short read (libpcap's "truncated dump file" error), not a SIGBUS.
#pragma once

#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace rsthop::pcap {

class ChunkedPcap {
 public:
  // Reads the regular file `fd` (not taken) when it starts with a classic pcap header; nullptr otherwise.
  // `snapshot` is libpcap's pcap_snapshot() of the same file; `chunk` the bytes of one read.
  static std::unique_ptr<ChunkedPcap> open(int fd, uint32_t snapshot, size_t chunk);

  // The next record as libpcap (nanosecond precision) would give it, valid until the next call;
  // false: none here, libpcap goes on at offset().
  bool next(pcap_pkthdr& h, const uint8_t*& data);
  size_t offset() const { return base_ + static_cast<size_t>(cur_ - buf_.get()); }  // the next record's file offset

 private:
  ChunkedPcap(int fd, uint32_t snapshot, size_t chunk, bool swapped, bool nanos)
      : fd_(fd),
        snapshot_(snapshot),
        swapped_(swapped),
        nanos_(nanos),
        buf_(std::make_unique_for_overwrite<uint8_t[]>(chunk)),
        size_(chunk),
        cur_(buf_.get()),
        end_(cur_) {}
  // Makes `need` bytes from cur_ on available (carrying the tail over, reading on); false at the
  // file's end or on a read error.
  bool fill(size_t need);

  int fd_;
  uint32_t snapshot_;
  bool swapped_, nanos_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t size_;                // buf_'s bytes
  size_t base_ = 24;           // the file offset of buf_[0]: after the file header
  const uint8_t *cur_, *end_;  // [cur_, end_): the bytes read and not yet handed out
};

// Inline: once per record, on analyze's hot path.  The record header is loaded once (four words,
// swapped in one place for a file of the other byte order).
inline bool ChunkedPcap::next(pcap_pkthdr& h, const uint8_t*& data) {
  constexpr size_t kRecordHeader = 16;
  constexpr uint32_t kInt32Max = 0x7fffffff;
  const uint8_t* r = cur_;
  if (static_cast<size_t>(end_ - r) < kRecordHeader) {
    if (!fill(kRecordHeader)) return false;
    r = cur_;
  }
  uint32_t w[4];
  std::memcpy(w, r, sizeof(w));
  if (swapped_) [[unlikely]]
    for (uint32_t& x : w) x = __builtin_bswap32(x);
  const uint32_t sec = w[0], frac = w[1], caplen = w[2], len = w[3];
  if (caplen > snapshot_ || caplen > len || sec > kInt32Max || frac > kInt32Max) return false;
  if (static_cast<size_t>(end_ - r) - kRecordHeader < caplen) {
    if (!fill(kRecordHeader + caplen)) return false;
    r = cur_;
  }
  const uint8_t* const body = r + kRecordHeader;
  cur_ = body + caplen;
  h.ts.tv_sec = sec;
  h.ts.tv_usec = nanos_ ? frac : static_cast<suseconds_t>(frac) * 1000;  // libpcap's scale to nanoseconds
  h.caplen = caplen;
  h.len = len;
  data = body;
  return true;
}

}  // namespace rsthop::pcap
