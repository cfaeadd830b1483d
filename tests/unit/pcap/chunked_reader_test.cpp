// The Reader's own road for plain classic pcap files (pcap::ChunkedPcap): read
// in chunks and parsed in place until a record libpcap would change or refuse,
// libpcap from there on.  Every record and the final error must be libpcap's
// own, whatever the chunk size, and a file truncated while it is read must end
// with an error, not a crash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "capture_files.h"
#include "pcap/reader.h"

namespace rsthop::test {
namespace {
using pcap::Reader;

// Classic pcap files are read in chunks until a record libpcap would change or refuse; libpcap
// reads on from there.  Either way each record (and the final error) must be libpcap's own.
namespace mapped {

std::string u32(uint32_t v, bool swap) {
  if (swap) v = __builtin_bswap32(v);
  return std::string(reinterpret_cast<const char*>(&v), 4);
}

struct Rec {
  uint32_t sec, frac, caplen, len;
  size_t body;  // bytes actually written after the header
};

std::string file(uint32_t magic, bool swap, uint32_t snaplen, const std::vector<Rec>& recs) {
  uint16_t ver[2] = {2, 4};
  if (swap) ver[0] = __builtin_bswap16(ver[0]), ver[1] = __builtin_bswap16(ver[1]);
  std::string s = u32(magic, swap) + std::string(reinterpret_cast<const char*>(ver), 4) + u32(0, swap) + u32(0, swap) +
                  u32(snaplen, swap) + u32(DLT_EN10MB, swap);
  uint8_t fill = 1;
  for (const Rec& r : recs) {
    s += u32(r.sec, swap) + u32(r.frac, swap) + u32(r.caplen, swap) + u32(r.len, swap);
    s += std::string(r.body, static_cast<char>(fill++));
  }
  return s;
}

struct Seen {
  std::vector<std::string> bytes;
  std::vector<uint64_t> ts;
  std::vector<uint32_t> len;
  std::string error;
};

Seen by_reader(const std::string& path, size_t chunk = Reader::kReadChunk) {
  Seen s;
  auto r = Reader::open(path, {}, {}, chunk);
  if (!r) return {{}, {}, {}, "open: " + r.error().message};
  pcap::Record rec;
  for (;;) {
    auto n = r.value()->next(rec);
    if (n == Reader::Next::end) break;
    if (n == Reader::Next::error) {
      s.error = r.value()->error();
      break;
    }
    s.bytes.emplace_back(rec.bytes.begin(), rec.bytes.end());
    s.ts.push_back(rec.ts_ns);
    s.len.push_back(rec.wire_len);
  }
  return s;
}

Seen by_libpcap(const std::string& path) {
  Seen s;
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) return {{}, {}, {}, std::string("open: ") + err};
  pcap_pkthdr* h = nullptr;
  const u_char* d = nullptr;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
    s.bytes.emplace_back(reinterpret_cast<const char*>(d), h->caplen);
    s.ts.push_back(static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(h->ts.tv_usec));
    s.len.push_back(h->len);
  }
  if (rc != PCAP_ERROR_BREAK) s.error = pcap_geterr(p);
  pcap_close(p);
  return s;
}

}  // namespace mapped

TEST(Reader, MappedRecordsAreLibpcapsOwn) {
  using mapped::Rec;
  const std::vector<Rec> good = {{1'700'000'000, 123'456, 60, 60, 60}, {1'700'000'001, 999'999, 100, 1500, 100}};
  struct Case {
    const char* name;
    std::vector<Rec> recs;
  };
  std::vector<Case> cases = {
      {"clean", good},
      {"caplen above the snaplen, then clean again",
       {good[0], {1'700'000'002, 5, 300, 300, 300}, good[1]}},  // libpcap cuts it to 256 and reads on
      {"caplen above len", {good[0], {1'700'000'003, 7, 80, 40, 80}, good[1]}},
      {"timestamp above 2^31", {good[0], {0x80000001u, 0x80000002u, 60, 60, 60}, good[1]}},
      {"cut in a record body", {good[0], good[1], {1'700'000'004, 1, 60, 60, 20}}},
      {"cut in a record header", {good[0], good[1], {1'700'000'005, 1, 60, 60, 0}}},
  };
  int n = 0;
  for (bool swap : {false, true})
    for (uint32_t magic : {0xa1b2c3d4u, 0xa1b23c4du})
      for (Case c : cases) {
        if (std::string(c.name) == "cut in a record header") c.recs.pop_back();
        std::string bytes = mapped::file(magic, swap, 256, c.recs);
        if (std::string(c.name) == "cut in a record header") bytes += std::string(9, '\0');
        std::string path = temp_path("mapped" + std::to_string(n++) + ".pcap");
        write_file(path, bytes);
        mapped::Seen a = mapped::by_reader(path), b = mapped::by_libpcap(path);
        std::string what = std::string(c.name) + (swap ? ", swapped" : "") + (magic == 0xa1b23c4du ? ", ns" : ", us");
        EXPECT_EQ(a.bytes, b.bytes) << what;
        EXPECT_EQ(a.ts, b.ts) << what;
        EXPECT_EQ(a.len, b.len) << what;
        EXPECT_EQ(a.error, b.error) << what;
        EXPECT_GE(a.bytes.size(), 2u) << what;
      }
}

// Records of every size from 0 to 300 bytes (one of 1,000, larger than most chunks), then a cut one:
// whatever the chunk size, a record a chunk's end cuts is carried over and read whole.
TEST(Reader, RecordsAcrossChunkBoundariesAreLibpcapsOwn) {
  using mapped::Rec;
  std::vector<Rec> recs;
  for (uint32_t i = 0; i < 120; i++) {
    const uint32_t caplen = i == 60 ? 1000 : (i * 37) % 301;
    recs.push_back({1'700'000'000 + i, i * 1000, caplen, caplen + i % 3, caplen});
  }
  recs.push_back({1'700'001'000, 1, 200, 200, 90});  // cut in its body: libpcap's error
  for (bool swap : {false, true}) {
    const std::string path = temp_path(std::string("chunks") + (swap ? "-swapped" : "") + ".pcap");
    write_file(path, mapped::file(0xa1b23c4du, swap, 65535, recs));
    const mapped::Seen want = mapped::by_libpcap(path);
    ASSERT_EQ(want.bytes.size(), 120u);
    ASSERT_FALSE(want.error.empty());
    std::vector<size_t> chunks = {1, 15, 16, 17, 4096, Reader::kReadChunk};
    for (size_t c = 18; c <= 700; c += 7) chunks.push_back(c);
    for (size_t chunk : chunks) {
      const mapped::Seen got = mapped::by_reader(path, chunk);
      const std::string what = "chunk " + std::to_string(chunk) + (swap ? ", swapped" : "");
      EXPECT_EQ(got.bytes, want.bytes) << what;
      EXPECT_EQ(got.ts, want.ts) << what;
      EXPECT_EQ(got.len, want.len) << what;
      EXPECT_EQ(got.error, want.error) << what;
    }
  }
}

// What a file another process truncates while the Reader reads it gives: records and the final
// error, or a clean end, but no SIGBUS (a mapping of the file had one past the new end).
struct Truncated {
  uint64_t records = 0;
  Reader::Next last = Reader::Next::record;
  std::string error;
};

Truncated read_truncated(const std::string& path, off_t cut, uint64_t before) {
  Truncated t;
  auto r = Reader::open(path, {}, {}, 4096);
  EXPECT_TRUE(r);
  if (!r) return t;
  pcap::Record rec;
  for (; t.records < before; t.records++) EXPECT_EQ(r.value()->next(rec), Reader::Next::record);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(ftruncate(fd, cut), 0);
  close(fd);
  while ((t.last = r.value()->next(rec)) == Reader::Next::record) t.records++;
  t.error = r.value()->error();
  return t;
}

TEST(Reader, FileTruncatedWhileReadEndsWithAnErrorNotACrash) {
  using mapped::Rec;
  constexpr size_t kRecords = 2000, kBody = 100, kRecord = 16 + kBody;
  const std::vector<Rec> recs(kRecords, Rec{1'700'000'000, 5, kBody, kBody, kBody});
  const std::string path = temp_path("truncated.pcap");

  // Cut in record 1,000's body, far past what the first reads took: libpcap's records and error.
  write_file(path, mapped::file(0xa1b2c3d4u, false, 65535, recs));
  Truncated t = read_truncated(path, 24 + 1000 * kRecord + 50, 10);
  const mapped::Seen want = mapped::by_libpcap(path);
  ASSERT_FALSE(want.error.empty());
  EXPECT_EQ(t.last, Reader::Next::error);
  EXPECT_EQ(t.error, want.error);
  EXPECT_EQ(t.records, want.bytes.size());
  EXPECT_EQ(t.records, 1000u);

  // Cut behind the reading, to the file header: the records read already, then an end, no crash.
  write_file(path, mapped::file(0xa1b2c3d4u, false, 65535, recs));
  t = read_truncated(path, 24, 10);
  EXPECT_NE(t.last, Reader::Next::record);
  EXPECT_GE(t.records, 10u);
  EXPECT_LT(t.records, kRecords);
}

}  // namespace
}  // namespace rsthop::test
