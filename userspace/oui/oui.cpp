#include "oui/oui.h"

#include <fstream>

namespace rsthop::oui {
namespace {

uint64_t prefix(const std::array<uint8_t, 6>& mac, int bits) {
  uint64_t v = 0;
  for (uint8_t b : mac) v = (v << 8) | b;
  return v >> (48 - bits);
}

}  // namespace

bool parse_csv_line(std::string_view line, std::string& assignment, std::string& org) {
  // Fields: Registry, Assignment, Organization Name, Organization Address; quotes may wrap commas.
  std::string field;
  int index = 0;
  bool quoted = false;
  for (size_t i = 0; i <= line.size(); i++) {
    char c = i < line.size() ? line[i] : ',';
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field.push_back('"');
        i++;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == ',' || c == '\r') {
      if (c == '\r') continue;
      if (index == 1) assignment = field;
      if (index == 2) {
        org = field;
        return !assignment.empty();
      }
      field.clear();
      index++;
    } else {
      field.push_back(c);
    }
  }
  return false;
}

void Registry::add(std::string_view hex, std::string org) {
  uint64_t v = 0;
  for (char c : hex) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) return;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  if (hex.size() == 6)
    by24_[v] = std::move(org);
  else if (hex.size() == 7)
    by28_[v] = std::move(org);
  else if (hex.size() == 9)
    by36_[v] = std::move(org);
}

Result<Registry> Registry::load(const std::string& dir) {
  Registry r;
  int files = 0;
  // iab.csv: the retired IAB registry, 36-bit blocks like MA-S (00:50:C2:xx:x...).
  for (const char* name : {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"}) {
    std::ifstream in(dir + "/" + name);
    if (!in) continue;
    files++;
    std::string line, assignment, org;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      assignment.clear();
      if (parse_csv_line(line, assignment, org)) r.add(assignment, org);
    }
  }
  if (files == 0)
    return make_error("no IEEE registry in " + dir + " (install the ieee-data package for MAC vendors)", ENOENT);
  return r;
}

std::string Registry::vendor(const std::array<uint8_t, 6>& mac) const {
  if (mac[0] & 0x01) return "multicast";
  // Registry assignments are universal; a locally administered address says nothing of its maker.
  if (mac[0] & 0x02) return "locally administered";
  if (auto it = by36_.find(prefix(mac, 36)); it != by36_.end()) return it->second;
  if (auto it = by28_.find(prefix(mac, 28)); it != by28_.end()) return it->second;
  if (auto it = by24_.find(prefix(mac, 24)); it != by24_.end()) return it->second;
  return "";
}

}  // namespace rsthop::oui
