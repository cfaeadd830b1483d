// The IEEE registry: which organisation a MAC address was assigned to.
// Reads Debian's ieee-data CSV files (MA-L 24-bit, MA-M 28-bit, MA-S and IAB
// 36-bit assignments) at run time and answers longest prefix first.  Locally
// administered and multicast addresses are reported as such, never guessed.
// Loading is one read per file and a scan with memchr; the names live in
// one arena, the prefixes in sorted arrays (about 46,000 entries).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rsthop::oui {

class Registry {
 public:
  // Loads oui.csv, mam.csv, oui36.csv and iab.csv from `dir`; a missing file is skipped,
  // no file at all is an error.
  static Result<Registry> load(const std::string& dir = "/usr/share/ieee-data");
  // Adds one assignment; `hex` is 6, 7 or 9 hex digits (24, 28, 36 bits).
  void add(std::string_view hex, std::string_view org);

  // "F5 Networks, Inc.", "locally administered", "multicast", or "" when unknown.
  std::string vendor(const std::array<uint8_t, 6>& mac) const;
  size_t size() const { return by24_.size() + by28_.size() + by36_.size(); }

 private:
  // One assignment: the prefix and its name's place in names_.
  struct Entry {
    uint64_t prefix;
    uint32_t off, len;
  };
  std::vector<Entry>* table(size_t digits);
  // Appends without ordering; sort_tables() orders them (the last of a
  // repeated prefix wins, as in the files' order) before any lookup.
  bool append(std::string_view hex, std::string_view org);
  void sort_tables();
  bool load_file(const std::string& path, std::string& scratch);  // false: not readable
  std::string_view name(const Entry& e) const { return {names_.data() + e.off, e.len}; }
  std::string_view find(const std::vector<Entry>& t, uint64_t prefix) const;

  std::string names_;
  std::vector<Entry> by24_, by28_, by36_;
};

// Parses one CSV line of the registry ("MA-L,0001D7,\"F5 Networks, Inc.\",...").
bool parse_csv_line(std::string_view line, std::string& assignment, std::string& org);

// The same parse without copies: `assignment` and `org` point into `line`,
// or, for the rare line with escaped quotes or a carriage return in the
// first three fields, into `scratch` (parsed by parse_csv_line).
bool parse_csv_fields(std::string_view line, std::string_view& assignment, std::string_view& org, std::string& scratch);

}  // namespace rsthop::oui
