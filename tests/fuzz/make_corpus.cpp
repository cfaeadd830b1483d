// Writes the fuzzers' seed corpus: make_corpus <dir> fills
// <dir>/{fuzz_parse,fuzz_record,fuzz_app_hint,fuzz_pcap_reader}/ with frames
// built by tests/common/packet_builder.h, ring-buffer records, first payloads
// and small capture files written with libpcap's pcap_dump (plus one gzip'd).
// Nothing is committed: the build runs this into build/tests/fuzz/corpus.
#include <pcap/pcap.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bpf/record.h"
#include "tests/common/packet_builder.h"

namespace fs = std::filesystem;
using namespace rsthop::test;

namespace {

fs::path g_root;

void put(const std::string& target, const std::string& name, const Bytes& b) {
  fs::create_directories(g_root / target);
  std::ofstream(g_root / target / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes tls_client_hello(const std::string& host) {
  Bytes sni;  // server_name extension body
  uint16_t nl = static_cast<uint16_t>(host.size());
  uint16_t ll = static_cast<uint16_t>(nl + 3);
  sni = {static_cast<uint8_t>(ll >> 8), static_cast<uint8_t>(ll), 0, static_cast<uint8_t>(nl >> 8),
         static_cast<uint8_t>(nl)};
  sni.insert(sni.end(), host.begin(), host.end());
  Bytes exts = {0, 0, static_cast<uint8_t>(sni.size() >> 8), static_cast<uint8_t>(sni.size())};
  exts.insert(exts.end(), sni.begin(), sni.end());
  Bytes alpn = {0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '2'};
  exts.insert(exts.begin(), alpn.begin(), alpn.end());  // SNI not first
  Bytes body = {0x03, 0x03};
  body.insert(body.end(), 32, 0x11);                  // random
  body.push_back(0);                                  // session id
  body.insert(body.end(), {0x00, 0x02, 0x13, 0x01});  // cipher suites
  body.insert(body.end(), {0x01, 0x00});              // compression
  body.push_back(static_cast<uint8_t>(exts.size() >> 8));
  body.push_back(static_cast<uint8_t>(exts.size()));
  body.insert(body.end(), exts.begin(), exts.end());
  Bytes hs = {0x01, 0, static_cast<uint8_t>(body.size() >> 8), static_cast<uint8_t>(body.size())};
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes rec = {0x16, 0x03, 0x01, static_cast<uint8_t>(hs.size() >> 8), static_cast<uint8_t>(hs.size())};
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

// "RHMF" multi-frame container of fuzz_parse: [flags][u16 len][bytes]...
Bytes multi(const std::vector<std::pair<bool, Bytes>>& frames) {
  Bytes out = str("RHMF");
  for (auto& [l2, b] : frames) {
    out.push_back(l2 ? 1 : 0);
    out.push_back(static_cast<uint8_t>(b.size() >> 8));
    out.push_back(static_cast<uint8_t>(b.size()));
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

bool write_pcap(const fs::path& path, int dlt, const std::vector<Bytes>& frames) {
  pcap_t* p = pcap_open_dead_with_tstamp_precision(dlt, 65535, PCAP_TSTAMP_PRECISION_NANO);
  if (!p) return false;
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  if (!d) {
    std::fprintf(stderr, "make_corpus: %s: %s\n", path.c_str(), pcap_geterr(p));
    pcap_close(p);
    return false;
  }
  long ts = 1;
  for (auto& f : frames) {
    pcap_pkthdr h{};
    h.ts.tv_sec = 1700000000;
    h.ts.tv_usec = ts++ * 1000;  // nanoseconds with the NANO precision
    h.caplen = static_cast<bpf_u_int32>(f.size());
    h.len = h.caplen;
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
  }
  pcap_dump_close(d);
  pcap_close(p);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus <dir>\n");
    return 2;
  }
  g_root = argv[1];
  const char* A = "10.0.0.1";
  const char* B = "10.0.0.2";
  const char* A6 = "2001:db8::1";
  const char* B6 = "2001:db8::2";

  auto syn4 = PacketBuilder()
                  .eth()
                  .ipv4(A, B)
                  .df()
                  .tcp(40000, 443)
                  .flags(kSyn)
                  .seq(1000)
                  .mss(1460)
                  .sack_perm()
                  .timestamps(1, 0)
                  .nop()
                  .wscale(7)
                  .build();
  auto syn6 = PacketBuilder().eth().ipv6(A6, B6).tcp(40001, 80).flags(kSyn).seq(7).mss(1440).wscale(9).build();
  auto synack4 =
      PacketBuilder().eth().ipv4(B, A).tcp(443, 40000).flags(kSyn | kAck).seq(5000).ack(1001).mss(1400).build();
  auto vlan = PacketBuilder().eth().vlan(100).ipv4(A, B).tcp(1, 2).flags(kSyn).build();
  auto qinq = PacketBuilder().eth().vlan(10, kTpid8021ad).vlan(20).ipv6(A6, B6).tcp(3, 4).flags(kAck).build();
  auto ext6 = PacketBuilder()
                  .eth()
                  .ipv6(A6, B6)
                  .hop_by_hop()
                  .routing(0, 0)
                  .dest_opts({1, 2, 0, 0})
                  .fragment6(0, true)
                  .tcp(5, 6)
                  .flags(kSyn)
                  .build();
  auto ipopt = PacketBuilder()
                   .eth()
                   .ipv4(A, B)
                   .ip_options({0x94, 0x04, 0, 0})
                   .tcp(7, 8)
                   .flags(kSyn)
                   .raw_tcp_options({2, 4, 5, 0xb4, 3, 3, 8, 1})
                   .build();
  auto q4 = PacketBuilder().ipv4(A, B).ttl(1).tcp(40000, 443).flags(kSyn).seq(1000).build_l3();
  auto te4 = PacketBuilder().eth().ipv4("192.0.2.1", A).icmp_time_exceeded(q4).build();
  auto q6 = PacketBuilder().ipv6(A6, B6).ttl(1).tcp(40001, 80).build_l3();
  auto te6 = PacketBuilder().eth().ipv6("2001:db8::fe", A6).icmp_time_exceeded(q6).build();
  auto du4 = PacketBuilder().ipv4("192.0.2.1", A).icmp_dest_unreachable(q4).build_l3();
  auto rst = PacketBuilder()
                 .eth()
                 .ipv4(B, A)
                 .tcp(443, 40000)
                 .flags(kRst | kAck)
                 .seq(5001)
                 .ack(1001)
                 .payload("connection reset by policy")
                 .build();
  auto tls = tls_client_hello("example.com");
  auto http = str("GET /index.html HTTP/1.1\r\nUser-Agent: x\r\nHost: www.example.org:8080\r\n\r\n");
  auto data4 =
      PacketBuilder().eth().ipv4(A, B).tcp(40000, 443).flags(kAck | kPsh).seq(1001).ack(5001).payload(tls).build();
  auto http6 = PacketBuilder().ipv6(A6, B6).tcp(40001, 80).flags(kAck | kPsh).seq(8).payload(http).build_l3();
  auto fin = PacketBuilder().eth().ipv4(A, B).tcp(40000, 443).flags(kFin | kAck).seq(1500).build();

  // fuzz_parse: single frames and one conversation.
  const std::vector<std::pair<std::string, Bytes>> frames = {{"syn4", syn4},
                                                             {"syn6", syn6},
                                                             {"vlan", vlan},
                                                             {"qinq", qinq},
                                                             {"ext6", ext6},
                                                             {"ipopt", ipopt},
                                                             {"te4", te4},
                                                             {"te6", te6},
                                                             {"du4_l3", du4},
                                                             {"rst_payload", rst},
                                                             {"data_tls", data4},
                                                             {"http6_l3", http6},
                                                             {"trunc_syn4", truncate(syn4, 40)}};
  for (auto& [n, b] : frames) put("fuzz_parse", n, b);
  put("fuzz_parse", "conversation",
      multi({{true, syn4}, {true, synack4}, {true, data4}, {true, fin}, {true, rst}, {true, te4}, {false, http6}}));

  // fuzz_record: records as the ring buffer carries them.
  auto rec = [](uint8_t kind, size_t size, uint16_t snap, uint16_t payload_len) {
    rh_event ev{};
    ev.kind = kind;
    ev.family = 4;
    ev.sport = 40000;
    ev.dport = 443;
    ev.snap_len = snap;
    ev.payload_len = payload_len;
    Bytes b(sizeof(rh_data_event) > sizeof(ev) ? sizeof(rh_data_event) : sizeof(ev), 0x41);
    std::memcpy(b.data(), &ev, std::min(sizeof(ev), b.size()));
    b.resize(size);
    return b;
  };
  put("fuzz_record", "syn", rec(RH_EV_SYN, RH_REC_SIZE_BASE, 0, 0));
  put("fuzz_record", "rst_payload", rec(RH_EV_RST, RH_REC_SIZE_RST_PAYLOAD, 26, 26));
  put("fuzz_record", "icmp", rec(RH_EV_ICMP, RH_REC_SIZE_ICMP, 0, 0));
  put("fuzz_record", "payload", rec(RH_EV_PAYLOAD, sizeof(rh_data_event), 300, 300));
  put("fuzz_record", "local_rst", rec(RH_EV_LOCAL_RST_SEND, RH_REC_SIZE_BASE, 0, 0));

  // fuzz_app_hint: first payloads.
  put("fuzz_app_hint", "tls_sni", tls);
  put("fuzz_app_hint", "tls_cut", Bytes(tls.begin(), tls.begin() + 60));
  put("fuzz_app_hint", "http", http);
  put("fuzz_app_hint", "http_v6host", str("POST /x HTTP/1.0\r\nhOsT: [2001:db8::1]:80\r\n\r\n"));

  // fuzz_pcap_reader: small captures of a few link types.
  fs::create_directories(g_root / "fuzz_pcap_reader");
  std::vector<Bytes> eth = {syn4, synack4, data4, rst, te4, vlan, ext6, fin};
  auto l3 = [](const Bytes& f) { return Bytes(f.begin() + 14, f.end()); };
  std::vector<Bytes> raw, sll, null;
  for (auto& f : {syn4, synack4, data4, rst, te4}) {
    Bytes ip = l3(f);
    raw.push_back(ip);
    Bytes s = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};  // SLL, protocol IPv4
    s.insert(s.end(), ip.begin(), ip.end());
    sll.push_back(s);
    Bytes n = {2, 0, 0, 0};  // AF_INET, host order
    n.insert(n.end(), ip.begin(), ip.end());
    null.push_back(n);
  }
  raw.push_back(http6);
  bool ok = write_pcap(g_root / "fuzz_pcap_reader" / "en10mb.pcap", DLT_EN10MB, eth) &&
            write_pcap(g_root / "fuzz_pcap_reader" / "raw.pcap", DLT_RAW, raw) &&
            write_pcap(g_root / "fuzz_pcap_reader" / "linux_sll.pcap", DLT_LINUX_SLL, sll) &&
            write_pcap(g_root / "fuzz_pcap_reader" / "null.pcap", DLT_NULL, null);
  // One gzip'd copy: the Reader inflates through zlib.
  {
    std::ifstream in(g_root / "fuzz_pcap_reader" / "en10mb.pcap", std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    gzFile gz = gzopen((g_root / "fuzz_pcap_reader" / "en10mb.pcap.gz").c_str(), "wb");
    ok = ok && gz && gzwrite(gz, s.data(), static_cast<unsigned>(s.size())) == static_cast<int>(s.size());
    if (gz) gzclose(gz);
  }
  return ok ? 0 : 1;
}
