#include "pcap/mapped_pcap.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>

namespace rsthop::pcap {
namespace {

constexpr uint32_t kMagicMicros = 0xa1b2c3d4, kMagicNanos = 0xa1b23c4d;
constexpr size_t kFileHeader = 24;

}  // namespace

std::unique_ptr<MappedPcap> MappedPcap::open(int fd, uint32_t snapshot) {
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(kFileHeader)) return nullptr;
  const size_t size = static_cast<size_t>(st.st_size);
  void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) return nullptr;
  const auto* base = static_cast<const uint8_t*>(m);
  uint32_t magic;
  std::memcpy(&magic, base, 4);
  const bool swapped = magic == __builtin_bswap32(kMagicMicros) || magic == __builtin_bswap32(kMagicNanos);
  if (swapped) magic = __builtin_bswap32(magic);
  uint16_t version[2];
  std::memcpy(version, base + 4, 4);
  if (swapped) version[0] = __builtin_bswap16(version[0]), version[1] = __builtin_bswap16(version[1]);
  if ((magic != kMagicMicros && magic != kMagicNanos) || version[0] != 2 || version[1] != 4) {
    munmap(m, size);
    return nullptr;
  }
  return std::unique_ptr<MappedPcap>(new MappedPcap(base, size, snapshot, swapped, magic == kMagicNanos));
}

MappedPcap::~MappedPcap() { munmap(const_cast<uint8_t*>(base_), size_); }

}  // namespace rsthop::pcap
