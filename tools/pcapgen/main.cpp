// pcapgen: writes a synthetic Ethernet pcap of realistic TCP traffic for the
// `rsthop analyze` throughput benchmark (scripts/bench.sh, docs/BENCHMARKS.md).
//
//   pcapgen [-n PACKETS] [-f FLOWS] [-s SEED] [--snaplen N] [--v6-percent P]
//           [--reset-percent P] [--concurrency C] -o FILE
//
// Many TCP flows run interleaved (C at a time, the next packet taken from a
// random live flow): a handshake, then mostly data segments both ways (bulk
// from the server, requests and pure ACKs from the client, PSH at the end of
// each burst), and a FIN exchange.  About 1% of the flows end in a RST
// instead: from the server, from the client, or injected with a payload
// (with or without ACK).  IPv4 and some IPv6; addresses only from the
// benchmarking ranges 198.18.0.0/15 and 2001:db8::/32.  Same arguments, same
// bytes (std::mt19937_64 seeded with -s).  Frames are cut to --snaplen
// (default 256, a header capture; 0 keeps whole frames), the wire length stays.
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/common/packet_builder.h"

namespace {

using rsthop::test::Bytes;
using rsthop::test::kAck;
using rsthop::test::kFin;
using rsthop::test::kPsh;
using rsthop::test::kRst;
using rsthop::test::kSyn;
using rsthop::test::PacketBuilder;

struct Config {
  uint64_t packets = 2'000'000;
  uint64_t flows = 10'000;
  uint64_t seed = 1;
  uint32_t snaplen = 256;
  double v6_percent = 10;
  double reset_percent = 1;
  size_t concurrency = 1000;
  std::string out;
};

enum class Phase { syn, synack, ack, data, fin1, fin2, fin3, rst, done };
enum class RstKind { server, client, injected_payload, injected_bare };

struct Flow {
  bool v6 = false;
  std::string cli, srv;
  uint16_t cport = 0, sport = 0;
  uint32_t cseq = 0, sseq = 0;  // next sequence number of each side
  uint16_t cid = 0, sid = 0;    // IPv4 ids
  uint32_t tsval = 0;
  int data_left = 0;  // data-phase packets still to send
  bool http = false;  // the first request is an HTTP GET (else TLS-ish bytes)
  bool first_req = true;
  int burst = 0;    // server segments left in the current response
  int unacked = 0;  // server segments the client has not acked yet
  bool reset = false;
  RstKind rst_kind = RstKind::server;
  Phase phase = Phase::syn;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "pcapgen: %s\nusage: pcapgen [-n PACKETS] [-f FLOWS] [-s SEED] [--snaplen N] "
               "[--v6-percent P] [--reset-percent P] [--concurrency C] -o FILE\n",
               msg);
  std::exit(2);
}

class Gen {
 public:
  explicit Gen(const Config& c) : cfg_(c), rng_(c.seed) {
    for (size_t i = 0; i < payload_.size(); i++) payload_[i] = static_cast<uint8_t>(rng_());
  }

  uint64_t uniform(uint64_t lo, uint64_t hi) { return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  Flow make_flow(uint64_t idx) {
    Flow f;
    f.v6 = chance(cfg_.v6_percent / 100);
    char buf[64];
    // Clients in 198.18.0.0/16, servers in 198.19.0.0/16 (v6: 2001:db8:1::/48 and 2001:db8:2::/48).
    uint32_t c = static_cast<uint32_t>(uniform(1, 65534)), s = static_cast<uint32_t>(uniform(1, 1023));
    if (f.v6) {
      std::snprintf(buf, sizeof buf, "2001:db8:1::%x:%x", c >> 8, c & 0xff);
      f.cli = buf;
      std::snprintf(buf, sizeof buf, "2001:db8:2::%x", s);
      f.srv = buf;
    } else {
      std::snprintf(buf, sizeof buf, "198.18.%u.%u", c >> 8, c & 0xff);
      f.cli = buf;
      std::snprintf(buf, sizeof buf, "198.19.%u.%u", s >> 8, s & 0xff);
      f.srv = buf;
    }
    f.cport = static_cast<uint16_t>(32768 + (idx * 7919 + uniform(0, 28000)) % 28232);
    static const uint16_t ports[] = {443, 443, 443, 80, 8080, 22, 5201, 993};
    f.sport = ports[uniform(0, 7)];
    f.http = f.sport == 80 || f.sport == 8080;
    f.cseq = static_cast<uint32_t>(rng_());
    f.sseq = static_cast<uint32_t>(rng_());
    f.cid = static_cast<uint16_t>(rng_());
    f.sid = static_cast<uint16_t>(rng_());
    f.tsval = static_cast<uint32_t>(rng_());
    uint64_t avg = std::max<uint64_t>(cfg_.packets / std::max<uint64_t>(cfg_.flows, 1), 8);
    f.data_left = static_cast<int>(uniform(1, 2 * (avg - 6)));  // mean ~ avg packets per flow
    f.reset = chance(cfg_.reset_percent / 100);
    if (f.reset) {
      f.rst_kind = static_cast<RstKind>(uniform(0, 3));
      f.data_left = static_cast<int>(uniform(0, f.data_left));  // cut short somewhere
    }
    return f;
  }

  // One packet of f, from the client (to_server) or the server.
  PacketBuilder pkt(Flow& f, bool to_server, uint8_t flags, uint32_t seq, uint32_t ack, size_t len) {
    PacketBuilder b;
    b.eth();
    if (f.v6)
      to_server ? b.ipv6(f.cli, f.srv) : b.ipv6(f.srv, f.cli);
    else
      to_server ? b.ipv4(f.cli, f.srv) : b.ipv4(f.srv, f.cli);
    b.ttl(to_server ? 64 : 57).df().ip_id(to_server ? f.cid++ : f.sid++);
    to_server ? b.tcp(f.cport, f.sport) : b.tcp(f.sport, f.cport);
    b.flags(flags).seq(seq).ack(ack).window(to_server ? 2048 : 501);
    if (flags & kSyn) {
      b.mss(1460).sack_perm().timestamps(f.tsval, (flags & kAck) ? f.tsval - 7 : 0).nop().wscale(7);
    } else {
      b.nop().nop().timestamps(f.tsval, f.tsval - 7);
    }
    f.tsval += 3;
    if (len) {
      if (to_server && f.first_req) {
        f.first_req = false;
        std::string req = f.http ? "GET /index.html HTTP/1.1\r\nHost: www.example.test\r\nAccept: */*\r\n\r\n"
                                 : std::string(reinterpret_cast<const char*>(payload_.data()), len);
        len = req.size();
        b.payload(Bytes(req.begin(), req.end()));
      } else {
        b.payload(Bytes(payload_.begin(), payload_.begin() + static_cast<long>(len)));
      }
    }
    return b;
  }

  // The next packet of f (advances its state); false when f has nothing left.
  bool next(Flow& f, Bytes& out, uint32_t& wire) {
    PacketBuilder b;
    switch (f.phase) {
      case Phase::syn:
        b = pkt(f, true, kSyn, f.cseq++, 0, 0);
        f.phase = Phase::synack;
        break;
      case Phase::synack:
        b = pkt(f, false, kSyn | kAck, f.sseq++, f.cseq, 0);
        f.phase = Phase::ack;
        break;
      case Phase::ack:
        b = pkt(f, true, kAck, f.cseq, f.sseq, 0);
        f.phase = f.data_left > 0 ? Phase::data : (f.reset ? Phase::rst : Phase::fin1);
        break;
      case Phase::data:
        b = data(f);
        if (--f.data_left <= 0) f.phase = f.reset ? Phase::rst : Phase::fin1;
        break;
      case Phase::fin1:
        b = pkt(f, true, kFin | kAck, f.cseq++, f.sseq, 0);
        f.phase = Phase::fin2;
        break;
      case Phase::fin2:
        b = pkt(f, false, kFin | kAck, f.sseq++, f.cseq, 0);
        f.phase = Phase::fin3;
        break;
      case Phase::fin3:
        b = pkt(f, true, kAck, f.cseq, f.sseq, 0);
        f.phase = Phase::done;
        break;
      case Phase::rst:
        b = rst(f);
        f.phase = Phase::done;
        break;
      case Phase::done:
        return false;
    }
    out = b.build();
    wire = static_cast<uint32_t>(out.size());
    return true;
  }

 private:
  PacketBuilder data(Flow& f) {
    if (f.burst == 0 && (f.unacked >= 2 || (f.unacked > 0 && chance(0.5)))) {
      f.unacked = 0;  // the client acks what it has
      return pkt(f, true, kAck, f.cseq, f.sseq, 0);
    }
    if (f.burst == 0) {
      // A request from the client, then a response of a few segments.
      size_t len = f.first_req ? 0 : uniform(60, 700);
      if (f.first_req) len = 517;
      f.burst = static_cast<int>(uniform(1, 24));
      PacketBuilder b = pkt(f, true, kPsh | kAck, f.cseq, f.sseq, len);
      f.cseq += static_cast<uint32_t>(b.build_l3().size() - (f.v6 ? 40 : 20) - 32);
      return b;
    }
    // A server segment: full-sized except the last of the burst, which has PSH.
    bool last = --f.burst == 0;
    size_t len = last ? uniform(1, 1448) : 1448;
    if (chance(0.2)) f.unacked++, f.unacked++;  // delayed ACK pattern
    f.unacked++;
    if (f.unacked >= 2 && chance(0.5)) {
      // interleave: client ACK before the next segment
      f.unacked = 0;
      f.burst++;
      return pkt(f, true, kAck, f.cseq, f.sseq, 0);
    }
    PacketBuilder b = pkt(f, false, last ? kPsh | kAck : kAck, f.sseq, f.cseq, len);
    f.sseq += static_cast<uint32_t>(len);
    return b;
  }

  PacketBuilder rst(Flow& f) {
    switch (f.rst_kind) {
      case RstKind::server:
        return pkt(f, false, kRst | kAck, f.sseq, f.cseq, 0);
      case RstKind::client:
        return pkt(f, true, kRst, f.cseq, 0, 0);
      case RstKind::injected_payload: {
        // A middlebox's RST toward the client, with a block page in its payload
        // and a TTL that does not match the server's.
        PacketBuilder b;
        b.eth();
        f.v6 ? b.ipv6(f.srv, f.cli) : b.ipv4(f.srv, f.cli);
        b.ttl(250).ip_id(0).tcp(f.sport, f.cport).flags(kRst | kAck).seq(f.sseq).ack(f.cseq).window(0);
        b.payload(std::string_view("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
        return b;
      }
      case RstKind::injected_bare:
      default: {
        PacketBuilder b;
        b.eth();
        f.v6 ? b.ipv6(f.cli, f.srv) : b.ipv4(f.cli, f.srv);
        b.ttl(249).ip_id(0).tcp(f.cport, f.sport).flags(kRst).seq(f.cseq).window(0);
        return b;
      }
    }
  }

  const Config& cfg_;
  std::mt19937_64 rng_;
  std::array<uint8_t, 1500> payload_{};
};

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "-n")
      cfg.packets = std::stoull(val());
    else if (a == "-f")
      cfg.flows = std::stoull(val());
    else if (a == "-s")
      cfg.seed = std::stoull(val());
    else if (a == "--snaplen")
      cfg.snaplen = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--v6-percent")
      cfg.v6_percent = std::stod(val());
    else if (a == "--reset-percent")
      cfg.reset_percent = std::stod(val());
    else if (a == "--concurrency")
      cfg.concurrency = std::stoull(val());
    else if (a == "-o")
      cfg.out = val();
    else if (a == "-h" || a == "--help")
      usage("synthetic TCP capture for the analyze benchmark");
    else
      usage(("unknown argument " + a).c_str());
  }
  if (cfg.out.empty()) usage("-o FILE is required");
  if (cfg.flows == 0 || cfg.concurrency == 0) usage("flows and concurrency must be positive");

  uint32_t snap = cfg.snaplen ? cfg.snaplen : 262144;
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, static_cast<int>(snap), PCAP_TSTAMP_PRECISION_MICRO);
  pcap_dumper_t* d = pcap_dump_open(dead, cfg.out.c_str());
  if (!d) {
    std::fprintf(stderr, "pcapgen: %s: %s\n", cfg.out.c_str(), pcap_geterr(dead));
    return 1;
  }

  Gen g(cfg);
  std::vector<Flow> live;
  uint64_t started = 0, resets = 0, v6 = 0;
  auto start_flow = [&]() {
    Flow f = g.make_flow(started++);
    resets += f.reset;
    v6 += f.v6;
    return f;
  };
  size_t conc = std::min<uint64_t>(cfg.concurrency, cfg.flows);
  for (size_t i = 0; i < conc; i++) live.push_back(start_flow());

  uint64_t ts_us = 1'700'000'000ULL * 1'000'000ULL;
  Bytes frame;
  uint32_t wire = 0;
  uint64_t written = 0;
  while (written < cfg.packets && !live.empty()) {
    size_t i = g.uniform(0, live.size() - 1);
    if (!g.next(live[i], frame, wire)) {
      live[i] = start_flow();  // a finished flow makes room for a new one
      continue;
    }
    ts_us += g.uniform(1, 9);  // ~5 us apart: ~200k packets/s of capture time
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(ts_us / 1'000'000);
    h.ts.tv_usec = static_cast<suseconds_t>(ts_us % 1'000'000);
    h.len = wire;
    h.caplen = std::min<uint32_t>(wire, snap);
    pcap_dump(reinterpret_cast<u_char*>(d), &h, frame.data());
    written++;
  }
  pcap_dump_close(d);
  pcap_close(dead);
  std::fprintf(stderr, "pcapgen: %s: %llu packets, %llu flows started (%llu IPv6, %llu reset), snaplen %u\n",
               cfg.out.c_str(), static_cast<unsigned long long>(written), static_cast<unsigned long long>(started),
               static_cast<unsigned long long>(v6), static_cast<unsigned long long>(resets), snap);
  return 0;
}
