#include "capture_files.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace rsthop::test {

namespace {
// The suite's temporary directory, removed when the process exits.
struct TempDir {
  std::filesystem::path path;
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
} g_temp;
}  // namespace

std::string temp_path(const std::string& name) {
  if (g_temp.path.empty())
    g_temp.path = std::filesystem::temp_directory_path() / ("rsthop_pcap_test_" + std::to_string(getpid()));
  const auto& dir = g_temp.path;
  std::filesystem::create_directories(dir);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info ? std::string(info->test_suite_name()) + "_" + info->name() : "none";
  for (char& c : test)
    if (c == '/') c = '_';
  return (dir / (test + "_" + name)).string();
}

void write_pcap(const std::string& path, int dlt, const std::vector<CapFrame>& frames) {
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(dlt, 262144, PCAP_TSTAMP_PRECISION_NANO);
  if (!dead) throw std::runtime_error("pcap_open_dead failed");
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  if (!d) throw std::runtime_error(std::string("pcap_dump_open: ") + pcap_geterr(dead));
  for (const auto& f : frames) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(f.ts_ns / 1'000'000'000ULL);
    h.ts.tv_usec = static_cast<suseconds_t>(f.ts_ns % 1'000'000'000ULL);  // ns with NANO precision
    h.caplen = static_cast<uint32_t>(f.bytes.size());
    h.len = f.wire_len ? f.wire_len : h.caplen;
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.bytes.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

namespace {

void put32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put16(std::string& out, uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); }

// A pcapng block: type, total length, body (padded to 4), total length again.
void block(std::string& out, uint32_t type, const std::string& body) {
  std::string padded = body;
  padded.resize((padded.size() + 3) & ~size_t{3}, '\0');
  uint32_t total = static_cast<uint32_t>(12 + padded.size());
  put32(out, type);
  put32(out, total);
  out += padded;
  put32(out, total);
}

}  // namespace

void write_pcapng(const std::string& path, const std::vector<int>& if_dlts, const std::vector<CapFrame>& frames,
                  const std::vector<uint32_t>& if_of) {
  std::string out, b;
  put32(b, 0x1A2B3C4D);  // byte-order magic
  put16(b, 1);
  put16(b, 0);
  put32(b, 0xFFFFFFFF);  // section length unknown
  put32(b, 0xFFFFFFFF);
  block(out, 0x0A0D0D0A, b);
  for (int dlt : if_dlts) {
    b.clear();
    put16(b, static_cast<uint16_t>(dlt));  // LINKTYPE_ = DLT_ for EN10MB, LINUX_SLL, LINUX_SLL2
    put16(b, 0);
    put32(b, 262144);  // snaplen
    block(out, 1, b);
  }
  for (size_t i = 0; i < frames.size(); i++) {
    const CapFrame& f = frames[i];
    uint64_t us = f.ts_ns / 1000;
    b.clear();
    put32(b, i < if_of.size() ? if_of[i] : 0);
    put32(b, static_cast<uint32_t>(us >> 32));
    put32(b, static_cast<uint32_t>(us));
    put32(b, static_cast<uint32_t>(f.bytes.size()));
    put32(b, f.wire_len ? f.wire_len : static_cast<uint32_t>(f.bytes.size()));
    b.append(reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size());
    block(out, 6, b);
  }
  write_file(path, out);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void gzip_file(const std::string& path, const std::string& gz_path) {
  std::string bytes = read_file(path);
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  if (!gz) throw std::runtime_error("gzopen failed");
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
}

Bytes frame_for(int dlt, const Bytes& l3, bool v6) {
  Bytes hdr;
  const uint8_t p_hi = v6 ? 0x86 : 0x08, p_lo = v6 ? 0xDD : 0x00;
  switch (dlt) {
    case DLT_EN10MB:
      hdr = {0x02, 0x5e, 0, 0, 0, 2, 0x02, 0xc1, 0, 0, 0, 1, p_hi, p_lo};
      break;
    case DLT_LINUX_SLL:  // packet type, ARPHRD_ETHER, address length 6, address (8), protocol
      hdr = {0, 0, 0, 1, 0, 6, 0x02, 0xc1, 0, 0, 0, 1, 0, 0, p_hi, p_lo};
      break;
    case DLT_LINUX_SLL2:  // protocol, reserved, ifindex, ARPHRD, packet type, address length, address (8)
      hdr = {p_hi, p_lo, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 0x02, 0xc1, 0, 0, 0, 1, 0, 0};
      break;
    case DLT_NULL: {  // host byte order (little-endian here): AF_INET 2, AF_INET6 10 (Linux)
      uint8_t fam = v6 ? 10 : 2;
      hdr = {fam, 0, 0, 0};
      break;
    }
    case DLT_LOOP: {  // network byte order; AF_INET6 as on OpenBSD (24)
      uint8_t fam = v6 ? 24 : 2;
      hdr = {0, 0, 0, fam};
      break;
    }
    default:  // DLT_RAW, DLT_IPV4, DLT_IPV6
      break;
  }
  hdr.insert(hdr.end(), l3.begin(), l3.end());
  return hdr;
}

}  // namespace rsthop::test
