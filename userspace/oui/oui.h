// The IEEE registry: which organisation a MAC address was assigned to.
// Reads Debian's ieee-data CSV files (MA-L 24-bit, MA-M 28-bit, MA-S and IAB
// 36-bit assignments) at run time and answers longest prefix first.  Locally
// administered and multicast addresses are reported as such, never guessed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace rsthop::oui {

class Registry {
 public:
  // Loads oui.csv, mam.csv, oui36.csv and iab.csv from `dir`; a missing file is skipped,
  // no file at all is an error.
  static Result<Registry> load(const std::string& dir = "/usr/share/ieee-data");
  // Adds one assignment; `hex` is 6, 7 or 9 hex digits (24, 28, 36 bits).
  void add(std::string_view hex, std::string org);

  // "F5 Networks, Inc.", "locally administered", "multicast", or "" when unknown.
  std::string vendor(const std::array<uint8_t, 6>& mac) const;
  size_t size() const { return by24_.size() + by28_.size() + by36_.size(); }

 private:
  std::unordered_map<uint64_t, std::string> by24_, by28_, by36_;
};

// Parses one CSV line of the registry ("MA-L,0001D7,\"F5 Networks, Inc.\",...").
bool parse_csv_line(std::string_view line, std::string& assignment, std::string& org);

}  // namespace rsthop::oui
