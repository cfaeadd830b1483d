// The Reader against files libpcap writes: every supported link type, gzip,
// standard input, filters, and broken files.  Events read from a file must be
// the events the kernel's code makes of the same frames (the Tracker fed
// Ethernet frames directly, as the replay suites check it against the kernel).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstring>
#include <ostream>

#include "capture_files.h"
#include "conversation.h"
#include "pcap/reader.h"
#include "pcap/tracker.h"

namespace rsthop::test {
namespace {

using pcap::Reader;
using pcap::Tracker;

struct ReadResult {
  std::vector<flow::Packet> events;
  std::string error;  // Reader::error() when the file ended with one
  uint64_t records = 0;
  rh_counters counters{};
};

// What `rsthop analyze` does per record (cli/analyze.cpp), minus the timeline.
ReadResult read_events(const std::string& path, const std::string& filter = {}) {
  ReadResult out;
  auto r = Reader::open(path, filter);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return out;
  Tracker t;
  pcap::Record rec;
  for (;;) {
    auto n = r.value()->next(rec);
    if (n == Reader::Next::end) break;
    if (n == Reader::Next::error) {
      out.error = r.value()->error();
      break;
    }
    out.records++;
    if (!rec.matched) {
      t.count_unparsed(RH_C_FILTERED);
      continue;
    }
    auto l3 = pcap::link_l3(r.value()->linktype(), rec.bytes);
    if (l3.cause) {
      t.count_unparsed(l3.cause);
      continue;
    }
    if (auto p = t.feed(rec.bytes.subspan(l3.offset), {rec.ts_ns, RH_HOOK_PCAP, 0, l3.has_l2, 1, rec.frame}))
      out.events.push_back(std::move(*p));
  }
  out.counters = t.counters();
  return out;
}

std::vector<CapFrame> frames_for(int dlt, const ConvNet& n) {
  std::vector<CapFrame> out;
  uint64_t ts = kT0;
  for (const Bytes& l3 : conversation(n)) {
    out.push_back({ts, frame_for(dlt, l3, n.v6()), 0});
    ts += kStep;
  }
  return out;
}

// The kernel's events for the conversation: Ethernet frames straight into the Tracker.
std::vector<flow::Packet> reference(const ConvNet& n) {
  Tracker t;
  std::vector<flow::Packet> out;
  uint64_t frame = 1;
  for (const CapFrame& f : frames_for(DLT_EN10MB, n)) {
    if (auto p = t.feed(f.bytes, {f.ts_ns, RH_HOOK_PCAP, 0, true, 1, frame})) out.push_back(std::move(*p));
    frame++;
  }
  return out;
}

// Same kinds, keys, sides, tuples, timestamps, frames and flow state; MACs
// only where the link type has them.
void expect_same(const std::vector<flow::Packet>& got, const std::vector<flow::Packet>& want, bool l2) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); i++) {
    SCOPED_TRACE("event " + std::to_string(i));
    rh_event g = got[i].ev, w = want[i].ev;
    if (!l2) {
      std::memset(w.smac, 0, 6);
      std::memset(w.dmac, 0, 6);
      std::memset(w.flow.peer_mac, 0, 6);
      std::memset(w.flow.init_mac, 0, 6);
    }
    EXPECT_EQ(g.kind, w.kind);
    EXPECT_EQ(g.hook, RH_HOOK_PCAP);
    EXPECT_EQ(g.side, w.side);
    EXPECT_EQ(g.ts_ns, w.ts_ns);
    EXPECT_EQ(std::memcmp(&g.key, &w.key, sizeof(g.key)), 0);
    EXPECT_EQ(std::memcmp(g.saddr, w.saddr, 16), 0);
    EXPECT_EQ(g.seq, w.seq);
    EXPECT_EQ(g.ttl, w.ttl);
    EXPECT_EQ(g.snap_len, w.snap_len);
    EXPECT_EQ(std::memcmp(&g.flow, &w.flow, sizeof(g.flow)), 0);
    EXPECT_EQ(std::memcmp(&g, &w, sizeof(g)), 0) << "whole event";
    EXPECT_EQ(got[i].frame, want[i].frame);
    EXPECT_EQ(got[i].data, want[i].data);
  }
}

struct LinkCase {
  int dlt;
  bool l2;
};
void PrintTo(const LinkCase& c, std::ostream* os) { *os << pcap::link_name(c.dlt); }

class LinkTypes : public ::testing::TestWithParam<LinkCase> {};

TEST_P(LinkTypes, EventsEqualTheKernelsForV4AndV6) {
  for (const ConvNet& n : {conv_v4(), conv_v6()}) {
    SCOPED_TRACE(n.client);
    std::string path = temp_path(std::string(n.v6() ? "v6" : "v4") + ".pcap");
    write_pcap(path, GetParam().dlt, frames_for(GetParam().dlt, n));
    ReadResult r = read_events(path);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.records, 6u);
    std::vector<flow::Packet> want = reference(n);
    ASSERT_EQ(want.size(), 5u);  // SYN, SYN-ACK, first payload, ICMP, RST (the bare ACK emits nothing)
    expect_same(r.events, want, GetParam().l2);
    EXPECT_EQ(r.counters.c[RH_C_PACKETS], 6u);
    EXPECT_EQ(r.counters.c[RH_C_ICMP_ERRORS], 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(All, LinkTypes,
                         ::testing::Values(LinkCase{DLT_EN10MB, true}, LinkCase{DLT_LINUX_SLL, false},
                                           LinkCase{DLT_LINUX_SLL2, false}, LinkCase{DLT_RAW, false},
                                           LinkCase{DLT_IPV4, false}, LinkCase{DLT_NULL, false},
                                           LinkCase{DLT_LOOP, false}),
                         [](const auto& info) { return pcap::link_name(info.param.dlt); });

TEST(Reader, PcapngWithSeveralInterfacesOfOneLinkType) {
  std::vector<CapFrame> frames = frames_for(DLT_EN10MB, conv_v4());
  std::string path = temp_path("two_if.pcapng");
  write_pcapng(path, {DLT_EN10MB, DLT_EN10MB}, frames, {0, 1, 0, 1, 1, 0});
  ReadResult r = read_events(path);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.records, 6u);
  // pcapng stores microseconds here: the events match the kernel's for the same times.
  std::vector<flow::Packet> want = reference(conv_v4());
  for (auto& p : want) p.ev.ts_ns = p.ev.ts_ns / 1000 * 1000;
  ASSERT_EQ(r.events.size(), want.size());
  for (size_t i = 0; i < want.size(); i++) EXPECT_EQ(r.events[i].ev.ts_ns, want[i].ev.ts_ns);
  EXPECT_EQ(r.events[4].ev.ifindex, 0u);  // libpcap 1.10 does not report the interface per packet
}

// The documented limit: libpcap 1.10 refuses a pcapng file whose interfaces
// have different link types; the error names the file.
TEST(Reader, PcapngWithMixedLinkTypesIsRefusedByLibpcap) {
  std::string path = temp_path("mixed.pcapng");
  write_pcapng(path, {DLT_EN10MB, DLT_LINUX_SLL}, frames_for(DLT_EN10MB, conv_v4()));
  auto r = Reader::open(path);
  std::string err;
  if (!r) {
    err = r.error().message;
  } else {
    pcap::Record rec;
    while (r.value()->next(rec) == Reader::Next::record) {}
    err = r.value()->error();
  }
  EXPECT_NE(err.find("different from the type of the first interface"), std::string::npos) << err;
}

TEST(Reader, TimestampsAreNanosecondsAndFramesCountFromOne) {
  std::string path = temp_path("ts.pcap");
  write_pcap(path, DLT_EN10MB, frames_for(DLT_EN10MB, conv_v4()));
  auto r = Reader::open(path);
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value()->linktype(), DLT_EN10MB);
  EXPECT_FALSE(r.value()->gzipped());
  pcap::Record rec;
  ASSERT_EQ(r.value()->next(rec), Reader::Next::record);
  EXPECT_EQ(rec.ts_ns, kT0);
  EXPECT_EQ(rec.frame, 1u);
  ASSERT_EQ(r.value()->next(rec), Reader::Next::record);
  EXPECT_EQ(rec.ts_ns, kT0 + kStep);
  EXPECT_EQ(rec.frame, 2u);
}

TEST(Reader, GzippedFileReadsTheSame) {
  std::string path = temp_path("plain.pcap"), gz = temp_path("plain.pcap.gz");
  write_pcap(path, DLT_LINUX_SLL2, frames_for(DLT_LINUX_SLL2, conv_v6()));
  gzip_file(path, gz);
  auto r = Reader::open(gz);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r.value()->gzipped());
  expect_same(read_events(gz).events, read_events(path).events, false);
}

TEST(Reader, StandardInputPlainAndGzipped) {
  std::string path = temp_path("stdin.pcap"), gz = temp_path("stdin.pcap.gz");
  write_pcap(path, DLT_EN10MB, frames_for(DLT_EN10MB, conv_v4()));
  gzip_file(path, gz);
  for (const std::string& f : {path, gz}) {
    int saved = dup(STDIN_FILENO);
    int fd = open(f.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    dup2(fd, STDIN_FILENO);
    close(fd);
    ReadResult r = read_events("-");
    dup2(saved, STDIN_FILENO);
    close(saved);
    EXPECT_EQ(r.records, 6u) << f;
    expect_same(r.events, reference(conv_v4()), true);
  }
}

TEST(Reader, FilterExpressionKeepsFrameNumbers) {
  std::string path = temp_path("filter.pcap");
  write_pcap(path, DLT_EN10MB, frames_for(DLT_EN10MB, conv_v4()));
  ReadResult r = read_events(path, "tcp[tcpflags] & tcp-rst != 0");
  EXPECT_EQ(r.records, 6u);
  EXPECT_EQ(r.counters.c[RH_C_FILTERED], 5u);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].ev.kind, RH_EV_RST);
  EXPECT_EQ(r.events[0].frame, 6u);

  auto bad = Reader::open(path, "tcp port");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(path + ": bad --filter expression"), std::string::npos) << bad.error().message;
}

TEST(Reader, TruncatedFileReportsTheReasonAfterTheGoodRecords) {
  std::string path = temp_path("cut.pcap");
  write_pcap(path, DLT_EN10MB, frames_for(DLT_EN10MB, conv_v4()));
  std::string bytes = read_file(path);
  write_file(path, bytes.substr(0, bytes.size() - 10));  // the last record loses 10 bytes
  ReadResult r = read_events(path);
  EXPECT_EQ(r.records, 5u);
  EXPECT_NE(r.error.find("truncated"), std::string::npos) << r.error;
  EXPECT_EQ(r.events.size(), 4u);  // everything before the RST
}

TEST(Reader, BadMagicNamesTheFile) {
  std::string path = temp_path("bad.pcap");
  write_file(path, std::string(64, 'x'));
  auto r = Reader::open(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind(path + ": not a readable pcap or pcapng file", 0), 0u) << r.error().message;
}

TEST(Reader, CutGzipSaysWhatIsWrongNotErrno) {
  std::string path = temp_path("cutgz.pcap"), gz = temp_path("cutgz.pcap.gz");
  write_pcap(path, DLT_EN10MB, frames_for(DLT_EN10MB, conv_v4()));
  gzip_file(path, gz);
  std::string bytes = read_file(gz);
  write_file(gz, bytes.substr(0, bytes.size() - 30));  // the gzip trailer and some data gone
  ReadResult r = read_events(gz);
  EXPECT_NE(r.error.find("gzip-compressed data is damaged or cut short"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("ioctl"), std::string::npos) << r.error;
}

TEST(Reader, FilterIsCheckedOnceBeforeAnyFile) {
  EXPECT_TRUE(pcap::check_filter(""));
  EXPECT_TRUE(pcap::check_filter("tcp port 443 or host 198.18.0.1"));
  auto bad = pcap::check_filter("tcp port");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("bad --filter expression: ", 0), 0u) << bad.error().message;
}

TEST(Reader, MissingFileNamesTheFile) {
  auto r = Reader::open(temp_path("absent.pcap"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot open: No such file"), std::string::npos) << r.error().message;
}

TEST(Reader, UnknownLinkTypeIsOneSentenceNamingTheFile) {
  std::string path = temp_path("wifi.pcap");
  write_pcap(path, DLT_IEEE802_11, {{kT0, Bytes(40, 0), 0}});
  auto r = Reader::open(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind(path + ": link type IEEE802_11 (105) is not supported", 0), 0u)
      << r.error().message;
}

TEST(Reader, SnaplenShorterThanTheHeadersCountsTruncation) {
  std::string path = temp_path("snap.pcap");
  Bytes syn = frame_for(DLT_EN10MB, conversation(conv_v4())[0], false);
  write_pcap(path, DLT_EN10MB,
             {{kT0, truncate(syn, 10), static_cast<uint32_t>(syn.size())},    // inside Ethernet
              {kT0, truncate(syn, 30), static_cast<uint32_t>(syn.size())},    // inside IPv4
              {kT0, truncate(syn, 40), static_cast<uint32_t>(syn.size())}});  // inside TCP
  ReadResult r = read_events(path);
  EXPECT_EQ(r.records, 3u);
  EXPECT_TRUE(r.events.empty());
  EXPECT_EQ(r.counters.c[RH_C_TRUNC_L2], 1u);
  EXPECT_EQ(r.counters.c[RH_C_TRUNC_L3], 1u);
  EXPECT_EQ(r.counters.c[RH_C_TRUNC_L4], 1u);
}

TEST(LinkL3, CookedAndNullHeadersOfOtherProtocolsAreNotIp) {
  Bytes arp_sll = {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x06, 0};
  EXPECT_EQ(pcap::link_l3(DLT_LINUX_SLL, arp_sll).cause, RH_C_NON_TCP);
  EXPECT_EQ(pcap::link_l3(DLT_LINUX_SLL, Bytes(15, 0)).cause, RH_C_TRUNC_L2);
  EXPECT_EQ(pcap::link_l3(DLT_LINUX_SLL2, Bytes(19, 0)).cause, RH_C_TRUNC_L2);
  EXPECT_EQ(pcap::link_l3(DLT_NULL, Bytes{7, 0, 0, 0, 0x45}).cause, RH_C_NON_TCP);
  EXPECT_EQ(pcap::link_l3(DLT_NULL, Bytes{0, 0, 0, 2, 0x45}).offset, 4u);           // big-endian writer
  EXPECT_EQ(pcap::link_l3(DLT_LOOP, Bytes{2, 0, 0, 0, 0x45}).cause, RH_C_NON_TCP);  // LOOP is network order
  EXPECT_FALSE(pcap::link_supported(DLT_IEEE802_11));
}

}  // namespace
}  // namespace rsthop::test
