// The fast road of pcap::Reader for a plain classic pcap file (version 2.4,
// micro- or nanosecond, either byte order): the file mapped into memory and
// its records handed out in place, without libpcap's two fread() copies per
// record.  Only records libpcap would hand over unchanged are read here: the
// first one that is not (cut short, longer than the file's snapshot length,
// caplen above len, a timestamp field above 2^31, the mapping's end) stops
// the road at its offset, and the Reader's libpcap handle takes over from
// there, so errors and odd records read exactly as before.
#pragma once

#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace rsthop::pcap {

class MappedPcap {
 public:
  // Maps the regular file `fd` when it starts with a classic pcap header; nullptr otherwise (or when mmap
  // fails).  `snapshot` is libpcap's pcap_snapshot() of the same file.
  static std::unique_ptr<MappedPcap> open(int fd, uint32_t snapshot);
  ~MappedPcap();
  MappedPcap(const MappedPcap&) = delete;
  MappedPcap& operator=(const MappedPcap&) = delete;

  // The next record as libpcap (nanosecond precision) would give it; false: none here, libpcap goes on at offset().
  bool next(pcap_pkthdr& h, const uint8_t*& data);
  size_t offset() const { return off_; }

 private:
  MappedPcap(const uint8_t* base, size_t size, uint32_t snapshot, bool swapped, bool nanos)
      : base_(base), size_(size), snapshot_(snapshot), swapped_(swapped), nanos_(nanos) {}
  uint32_t u32(const uint8_t* p) const;

  const uint8_t* base_;
  size_t size_;
  uint32_t snapshot_;
  bool swapped_, nanos_;
  size_t off_ = 24;  // after the file header
};

// Inline: once per record, on analyze's hot path.
inline uint32_t MappedPcap::u32(const uint8_t* p) const {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped_ ? __builtin_bswap32(v) : v;
}

inline bool MappedPcap::next(pcap_pkthdr& h, const uint8_t*& data) {
  constexpr size_t kRecordHeader = 16;
  constexpr uint32_t kInt32Max = 0x7fffffff;
  if (size_ - off_ < kRecordHeader) return false;
  const uint8_t* r = base_ + off_;
  const uint32_t sec = u32(r), frac = u32(r + 4), caplen = u32(r + 8), len = u32(r + 12);
  if (caplen > snapshot_ || caplen > len || sec > kInt32Max || frac > kInt32Max ||
      size_ - off_ - kRecordHeader < caplen)
    return false;
  h.ts.tv_sec = sec;
  h.ts.tv_usec = nanos_ ? frac : static_cast<suseconds_t>(frac) * 1000;  // libpcap's scale to nanoseconds
  h.caplen = caplen;
  h.len = len;
  data = r + kRecordHeader;
  off_ += kRecordHeader + caplen;
  return true;
}

}  // namespace rsthop::pcap
