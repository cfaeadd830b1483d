// fuzz_pcap_reader: the input is a whole capture file (pcap, pcapng, either
// gzip'd).  It is written to a memfd and opened through /proc/self/fd/N with
// pcap::Reader (zlib + libpcap), and every record goes through link_l3() and
// the Tracker as `rsthop analyze` does (userspace/cli/analyze.cpp).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "pcap/reader.h"
#include "pcap/tracker.h"

using namespace rsthop::pcap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("fuzz_pcap", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, size - done);
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  // A filter that matches most frames, so pcap_offline_filter runs too; small read chunks, so a
  // classic pcap file's records cross chunk boundaries.
  auto opened = Reader::open(path, (size & 1) ? "ip or ip6 or not ip" : "", {}, (size & 2) ? 61 : Reader::kReadChunk);
  close(fd);  // Reader::open opened its own descriptor
  if (!opened) return 0;
  Reader& reader = **opened;
  Tracker::Options opt;
  opt.max_flows = 8;
  Tracker tracker(opt);
  const int dlt = reader.linktype();
  FUZZ_CHECK(link_supported(dlt));
  Record rec;
  uint64_t frames = 0;
  for (int i = 0; i < 4096; i++) {
    auto n = reader.next(rec);
    if (n == Reader::Next::end) break;
    if (n == Reader::Next::error) {
      FUZZ_CHECK(!reader.error().empty());
      break;
    }
    FUZZ_CHECK(rec.frame == ++frames);
    if (!rec.matched) {
      tracker.count_unparsed(RH_C_FILTERED);
      continue;
    }
    L3Start l3 = link_l3(dlt, rec.bytes);
    if (l3.cause) {
      FUZZ_CHECK(l3.cause > 0 && l3.cause < RH_C_MAX);
      tracker.count_unparsed(l3.cause);
      continue;
    }
    FUZZ_CHECK(l3.offset <= rec.bytes.size());
    FrameInfo info{rec.ts_ns, RH_HOOK_PCAP, 0, l3.has_l2, 1, rec.frame};
    auto p = tracker.feed(rec.bytes.subspan(l3.offset), info);
    if (p && p->ev.kind == RH_EV_PAYLOAD) FUZZ_CHECK(p->data.size() <= RH_DATA_SNAP_MAX);
    FUZZ_CHECK(tracker.flow_count() <= 8);
  }
  FUZZ_CHECK(tracker.counters().c[RH_C_PACKETS] == frames);
  return 0;
}
