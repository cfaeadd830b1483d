// Capture files for the pcap suite, written with libpcap's dumper
// (pcap_open_dead + pcap_dump_open), so the Reader is tested against files
// libpcap itself produces.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/common/packet_builder.h"

namespace rsthop::test {

struct CapFrame {
  uint64_t ts_ns = 0;
  Bytes bytes;            // as the link type frames it
  uint32_t wire_len = 0;  // 0: bytes.size(); larger: the capture was cut by a snaplen
};

// A fresh path under the test's temporary directory.
std::string temp_path(const std::string& name);
// Writes a nanosecond pcap file of link type `dlt`.
void write_pcap(const std::string& path, int dlt, const std::vector<CapFrame>& frames);
// Writes a little-endian pcapng file: one Interface Description Block per
// entry of `if_dlts` (microsecond timestamps, the format's default), then one
// Enhanced Packet Block per frame on interface `if_of[i]` (0 when absent).
void write_pcapng(const std::string& path, const std::vector<int>& if_dlts, const std::vector<CapFrame>& frames,
                  const std::vector<uint32_t>& if_of = {});
// Writes `path`'s bytes gzip'd to `gz_path`.
void gzip_file(const std::string& path, const std::string& gz_path);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

// An IP packet (from PacketBuilder::build_l3) framed for a link type.
Bytes frame_for(int dlt, const Bytes& l3, bool v6);

}  // namespace rsthop::test
