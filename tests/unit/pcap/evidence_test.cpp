// --pcap-out: the pcapng writer read back by libpcap (link type, packets,
// nanosecond timestamps, bytes), its blocks checked byte by byte, and the
// Evidence keeper fed a conversation through the Tracker and the Timeline.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstring>

#include "capture_files.h"
#include "conversation.h"
#include "pcap/evidence.h"
#include "pcap/pcapng_writer.h"
#include "pcap/tracker.h"
#include "pipeline/pipeline.h"

namespace rsthop::test {
namespace {

using pcap::PcapngWriter;

struct Read {
  int dlt = -1;
  std::vector<CapFrame> frames;
};

Read read_back(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  EXPECT_NE(p, nullptr) << err;
  Read r;
  if (!p) return r;
  r.dlt = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    CapFrame f;
    f.ts_ns = uint64_t(h->ts.tv_sec) * 1'000'000'000ULL + uint64_t(h->ts.tv_usec);
    f.bytes.assign(d, d + h->caplen);
    f.wire_len = h->len;
    r.frames.push_back(std::move(f));
  }
  pcap_close(p);
  return r;
}

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | uint32_t(b[at + 3]) << 24;
}

TEST(PcapngWriter, LibpcapReadsItBack) {
  const std::string path = temp_path("w.pcapng");
  auto conv = conversation(conv_v4());
  std::vector<Bytes> frames;
  for (const auto& l3 : conv) frames.push_back(frame_for(DLT_EN10MB, l3, false));
  {
    auto w = PcapngWriter::create(path);
    ASSERT_TRUE(w) << w.error().message;
    auto id = w->add_interface({1, 262144, "eth0", "pcap test.pcap (linktype 1)"});
    ASSERT_TRUE(id);
    EXPECT_EQ(id.value(), 0u);
    for (size_t i = 0; i < frames.size(); i++)
      ASSERT_TRUE(w->write_packet(0, kT0 + i * 7, frames[i], uint32_t(frames[i].size() + (i == 2 ? 100 : 0)),
                                  i % 2 ? "comment " + std::to_string(i) : ""));
    EXPECT_FALSE(w->write_packet(1, kT0, frames[0], 0));  // no such interface
    EXPECT_EQ(w->packets(), frames.size());
    ASSERT_TRUE(w->close());
    EXPECT_FALSE(w->close());
  }
  Read r = read_back(path);
  EXPECT_EQ(r.dlt, DLT_EN10MB);
  ASSERT_EQ(r.frames.size(), frames.size());
  for (size_t i = 0; i < frames.size(); i++) {
    EXPECT_EQ(r.frames[i].ts_ns, kT0 + i * 7) << i;  // to the nanosecond
    EXPECT_EQ(r.frames[i].bytes, frames[i]) << i;
    EXPECT_EQ(r.frames[i].wire_len, frames[i].size() + (i == 2 ? 100 : 0)) << i;
  }
  // The file starts with the SHB, its length at both ends.
  std::string bytes = read_file(path);
  std::vector<uint8_t> b(bytes.begin(), bytes.end());
  EXPECT_EQ(le32(b, 0), 0x0A0D0D0Au);
  EXPECT_EQ(le32(b, 8), 0x1A2B3C4Du);
  uint32_t shb = le32(b, 4);
  EXPECT_EQ(le32(b, shb - 4), shb);
  EXPECT_NE(bytes.find("rsthop"), std::string::npos);
  EXPECT_EQ(b.size() % 4, 0u);
}

TEST(PcapngWriter, CommentOptionBytes) {
  const uint8_t data[5] = {1, 2, 3, 4, 5};
  auto b = PcapngWriter::packet_block(3, 0x0000000100000002ULL, data, 60, "héllo");
  // Header: type, length, interface, ts high, ts low, caplen, len.
  EXPECT_EQ(le32(b, 0), 6u);
  EXPECT_EQ(le32(b, 4), b.size());
  EXPECT_EQ(le32(b, b.size() - 4), b.size());
  EXPECT_EQ(le32(b, 8), 3u);
  EXPECT_EQ(le32(b, 12), 1u);
  EXPECT_EQ(le32(b, 16), 2u);
  EXPECT_EQ(le32(b, 20), 5u);
  EXPECT_EQ(le32(b, 24), 60u);
  EXPECT_EQ(0, std::memcmp(&b[28], data, 5));
  EXPECT_EQ(b[33] | b[34] | b[35], 0);  // data padded to 32 bits
  // opt_comment: code 1, length 6 (UTF-8 bytes), value, 2 bytes padding.
  const std::vector<uint8_t> opt = {1, 0, 6, 0, 'h', 0xC3, 0xA9, 'l', 'l', 'o', 0, 0, 0, 0, 0, 0};  // then opt_endofopt
  ASSERT_EQ(b.size(), 36 + opt.size() + 4);
  EXPECT_EQ(std::vector<uint8_t>(b.begin() + 36, b.begin() + 36 + long(opt.size())), opt);
  // No comment: no options at all.
  EXPECT_EQ(PcapngWriter::packet_block(0, 0, data, 5, "").size(), 36u + 4);
  // IDB: link type, snaplen, if_tsresol = 9.
  auto idb = PcapngWriter::interface_block({101, 65535, "", "pcap x (linktype 101)"});
  EXPECT_EQ(le32(idb, 0), 1u);
  EXPECT_EQ(idb[8] | idb[9] << 8, 101);
  EXPECT_EQ(le32(idb, 12), 65535u);
  const uint8_t tsresol[] = {9, 0, 1, 0, 9, 0, 0, 0};
  EXPECT_NE(std::search(idb.begin(), idb.end(), tsresol, tsresol + 8), idb.end());
}

TEST(PcapngWriter, CannotWriteNamesTheFile) {
  auto w = PcapngWriter::create("/nonexistent-dir/x.pcapng");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message.rfind("cannot write to /nonexistent-dir/x.pcapng: ", 0), 0u) << w.error().message;
}

// The conversation (plus unrelated traffic and padding frames) through the
// Tracker and the Timeline, as analyze runs it, with the keeper alongside.
TEST(Evidence, WritesTheResetsPackets) {
  const std::string path = temp_path("ev.pcapng");
  auto conv = conversation(conv_v4());
  // Interleave another flow and many data packets before the RST.
  std::vector<Bytes> l3(conv.begin(), conv.begin() + 4);
  for (int i = 0; i < 20; i++)
    l3.push_back(PacketBuilder()
                     .ipv4("10.0.0.1", "10.0.0.2")
                     .df()
                     .ttl(64)
                     .tcp(40000, 443)
                     .flags(kAck)
                     .seq(1039)
                     .ack(5001)
                     .build_l3());
  l3.push_back(PacketBuilder().ipv4("10.0.0.9", "10.0.0.2").ttl(64).tcp(41000, 80).flags(kSyn).seq(1).build_l3());
  l3.push_back(conv[4]);  // ICMP time exceeded quoting the request
  l3.push_back(conv[5]);  // RST
  l3.push_back(PacketBuilder()
                   .ipv4("10.0.0.1", "10.0.0.2")
                   .df()
                   .ttl(64)
                   .tcp(40000, 443)
                   .flags(kRst)
                   .seq(1039)
                   .build_l3());  // the client answers with a RST of its own (another burst)

  auto ev = pcap::Evidence::create(path, {.frames_before = 3, .frames_after = 0});
  ASSERT_TRUE(ev) << ev.error().message;
  ASSERT_TRUE(ev->begin_file("conv.pcap", DLT_RAW));
  pcap::Tracker tracker;
  std::vector<std::string> errors;
  // The product's own wiring: the pipeline judges each reset and hands it to the evidence writer.
  pipeline::Pipeline pipe({}, nullptr, {}, tracker.state_lookup());
  pipe.set_hooks({.on_reset = [&](const flow::ResetRecord& r, const attribution::Verdict&) -> Result<void> {
    if (auto w = ev->write(r, pcap::verdict_label("middlebox", 2, 0.9, "a summary")); !w)
      errors.push_back(w.error().message);
    return {};
  }});
  uint64_t frame = 1;
  for (const auto& b : l3) {
    const uint64_t ts = kT0 + frame * kStep;
    ev->add(b, uint32_t(b.size()), ts, frame, 0, false);
    if (auto p = tracker.feed(b, {ts, RH_HOOK_PCAP, 0, false, 1, frame})) {
      p->file = "conv.pcap";
      pipe.add(*p);
    }
    frame++;
  }
  pipe.finish_flows(kT0 + frame * kStep);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(ev->stats().resets, 2u);
  ASSERT_TRUE(ev->close());

  Read r = read_back(path);
  EXPECT_EQ(r.dlt, DLT_RAW);
  // SYN, SYN-ACK, ACK (frames 1-3), the last 3 before the first RST (the ACKs
  // 22-24; the other flow's SYN and the ICMP error are not in its ring), the
  // ICMP error (26), the RST (27); then the client's RST (28).
  const std::vector<uint64_t> want = {1, 2, 3, 22, 23, 24, 26, 27, 28};
  ASSERT_EQ(r.frames.size(), want.size());
  for (size_t i = 0; i < want.size(); i++) {
    EXPECT_EQ(r.frames[i].ts_ns, kT0 + want[i] * kStep) << i;
    EXPECT_EQ(r.frames[i].bytes, l3[want[i] - 1]) << i;
  }
  const std::string bytes = read_file(path);
  EXPECT_NE(bytes.find("pcap conv.pcap (linktype 101)"), std::string::npos);
  EXPECT_NE(bytes.find("rsthop reset #1: middlebox at hop 2 (confidence 0.90): a summary [handshake]"),
            std::string::npos);
  EXPECT_NE(bytes.find("rsthop reset #1: middlebox at hop 2 (confidence 0.90): a summary [RST]"), std::string::npos);
  EXPECT_NE(bytes.find("rsthop reset #1: middlebox at hop 2 (confidence 0.90): a summary [ICMP error]"),
            std::string::npos);
  EXPECT_NE(bytes.find("rsthop reset #2: middlebox at hop 2 (confidence 0.90): a summary [RST]"), std::string::npos);
}

TEST(Evidence, BoundedMemory) {
  const std::string path = temp_path("bounded.pcapng");
  auto ev = pcap::Evidence::create(path, {.max_flows = 4});
  ASSERT_TRUE(ev);
  ASSERT_TRUE(ev->begin_file("x", DLT_RAW));
  for (uint16_t port = 1; port <= 10; port++) {
    auto b = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(port, 443).flags(kSyn).build_l3();
    ev->add(b, uint32_t(b.size()), kT0, port, 0, false);
  }
  EXPECT_EQ(ev->stats().flows_evicted, 6u);
  EXPECT_EQ(ev->stats().frames_dropped, 6u);
  ASSERT_TRUE(ev->close());
  EXPECT_TRUE(read_back(path).frames.empty());
}

TEST(Evidence, VerdictLabel) {
  EXPECT_EQ(pcap::verdict_label("middlebox", 2, 0.9, "x"), "middlebox at hop 2 (confidence 0.90): x");
  EXPECT_EQ(pcap::verdict_label("", std::nullopt, 0, ""), "unknown (confidence 0.00)");
}

}  // namespace
}  // namespace rsthop::test
