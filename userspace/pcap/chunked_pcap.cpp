#include "pcap/chunked_pcap.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rsthop::pcap {
namespace {

constexpr uint32_t kMagicMicros = 0xa1b2c3d4, kMagicNanos = 0xa1b23c4d;
constexpr size_t kFileHeader = 24;
// A record above this (a snapshot length libpcap would not give a supported link type) is libpcap's.
constexpr size_t kMaxRecord = size_t{16} << 20;

}  // namespace

std::unique_ptr<ChunkedPcap> ChunkedPcap::open(int fd, uint32_t snapshot, size_t chunk) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  uint8_t head[kFileHeader];
  if (pread(fd, head, kFileHeader, 0) != static_cast<ssize_t>(kFileHeader)) return nullptr;
  uint32_t magic;
  std::memcpy(&magic, head, 4);
  const bool swapped = magic == __builtin_bswap32(kMagicMicros) || magic == __builtin_bswap32(kMagicNanos);
  if (swapped) magic = __builtin_bswap32(magic);
  uint16_t version[2];
  std::memcpy(version, head + 4, 4);
  if (swapped) version[0] = __builtin_bswap16(version[0]), version[1] = __builtin_bswap16(version[1]);
  if ((magic != kMagicMicros && magic != kMagicNanos) || version[0] != 2 || version[1] != 4) return nullptr;
  return std::unique_ptr<ChunkedPcap>(
      new ChunkedPcap(fd, snapshot, std::max<size_t>(chunk, 1), swapped, magic == kMagicNanos));
}

bool ChunkedPcap::fill(size_t need) {
  if (need > kMaxRecord) return false;
  const size_t have = static_cast<size_t>(end_ - cur_);
  base_ += static_cast<size_t>(cur_ - buf_.get());
  if (need > size_) {  // a record larger than the buffer: a larger one, for good
    auto larger = std::make_unique_for_overwrite<uint8_t[]>(need);
    std::memcpy(larger.get(), cur_, have);
    buf_ = std::move(larger);
    size_ = need;
  } else if (cur_ != buf_.get()) {
    std::memmove(buf_.get(), cur_, have);  // the cut record's start, carried over
  }
  cur_ = buf_.get();
  size_t got = have;
  while (got < need) {
    ssize_t n = pread(fd_, buf_.get() + got, size_ - got, static_cast<off_t>(base_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the end of the file (cut short, maybe truncated meanwhile) or an error: libpcap's
    got += static_cast<size_t>(n);
  }
  end_ = cur_ + got;
  return got >= need;
}

}  // namespace rsthop::pcap
