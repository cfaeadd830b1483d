// The IEEE registry: which organisation a MAC address was assigned to.
// Reads Debian's ieee-data CSV files (MA-L 24-bit, MA-M 28-bit, MA-S and IAB
// 36-bit assignments) at run time and answers longest prefix first.  Locally
// administered and multicast addresses are reported as such, never guessed.
// Loading is one read per file and a scan with memchr; the names live in
// one arena, the prefixes in sorted arrays (about 46,000 entries).  The
// files are parsed at the first lookup that needs them (a locally
// administered or multicast address needs none): a run that names no maker
// does not pay the parse (~38 M instructions).  Lookups may come from several
// threads; the parse runs once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rsthop::oui {

class Registry {
 public:
  Registry() = default;
  // Loads oui.csv, mam.csv, oui36.csv and iab.csv from `dir`; a missing file is skipped,
  // no file at all is an error.  Here only whether a file can be opened is checked; the files
  // are read and parsed at the first lookup that needs them (a file gone by then is skipped).
  static Result<Registry> load(const std::string& dir = "/usr/share/ieee-data");
  // Adds one assignment; `hex` is 6, 7 or 9 hex digits (24, 28, 36 bits).
  void add(std::string_view hex, std::string_view org);

  // "F5 Networks, Inc.", "locally administered", "multicast", or "" when unknown.
  std::string vendor(const std::array<uint8_t, 6>& mac) const;
  size_t size() const;

 private:
  // The files load() found, parsed once by parsed().
  struct Pending {
    std::string dir;
    std::once_flag once;
  };
  // The tables, after the pending files' parse (if any).  Const: a lookup's first need parses.
  const Registry& parsed() const;
  void parse_files(const std::string& dir);
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

  // Mutable: filled by parsed() under pending_'s once_flag, read only after it.
  mutable std::string names_;
  mutable std::vector<Entry> by24_, by28_, by36_;
  std::unique_ptr<Pending> pending_;  // set by load(), never reset: its once_flag guards the parse
};

// Parses one CSV line of the registry ("MA-L,0001D7,\"F5 Networks, Inc.\",...").
bool parse_csv_line(std::string_view line, std::string& assignment, std::string& org);

// The same parse without copies: `assignment` and `org` point into `line`,
// or, for the rare line with escaped quotes or a carriage return in the
// first three fields, into `scratch` (parsed by parse_csv_line).
bool parse_csv_fields(std::string_view line, std::string_view& assignment, std::string_view& org, std::string& scratch);

}  // namespace rsthop::oui
