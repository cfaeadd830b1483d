// Writes sample capture files for the `rsthop analyze` schema check:
//   pcap_write_sample DIR
// DIR/conv.pcap (Ethernet, IPv4 and IPv6 conversations), DIR/conv_sll2.pcap.gz
// (Linux cooked v2, gzip'd) and DIR/cut.pcap (its last record cut short).
#include <pcap/pcap.h>

#include <cstdio>
#include <string>

#include "capture_files.h"
#include "conversation.h"

using namespace rsthop::test;

namespace {

std::vector<CapFrame> frames(int dlt) {
  std::vector<CapFrame> out;
  uint64_t ts = kT0;
  for (const ConvNet& n : {conv_v4(), conv_v6()})
    for (const Bytes& l3 : conversation(n)) {
      out.push_back({ts, frame_for(dlt, l3, n.v6()), 0});
      ts += kStep;
    }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pcap_write_sample DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  write_pcap(dir + "/conv.pcap", DLT_EN10MB, frames(DLT_EN10MB));
  write_pcap(dir + "/sll2.pcap", DLT_LINUX_SLL2, frames(DLT_LINUX_SLL2));
  gzip_file(dir + "/sll2.pcap", dir + "/conv_sll2.pcap.gz");
  std::string bytes = read_file(dir + "/conv.pcap");
  write_file(dir + "/cut.pcap", bytes.substr(0, bytes.size() - 10));
  return 0;
}
