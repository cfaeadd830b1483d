#include "oui/oui.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace rsthop::oui {
namespace {

uint64_t prefix(const std::array<uint8_t, 6>& mac, int bits) {
  uint64_t v = 0;
  for (uint8_t b : mac) v = (v << 8) | b;
  return v >> (48 - bits);
}

// The whole file in one read (the registry files are a few MB at most).
bool read_file(const std::string& path, std::string& buf) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = fstat(fd, &st) == 0;
  buf.resize(ok ? static_cast<size_t>(st.st_size) : 0);
  size_t got = 0;
  while (ok && got < buf.size()) {
    ssize_t n = read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  close(fd);
  return ok;
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

namespace {

bool has_quote_or_cr(std::string_view f) {
  return f.find('"') != std::string_view::npos || f.find('\r') != std::string_view::npos;
}

// The common line: the first three fields plain, or the name quoted without
// escaped quotes.  False: leave the line to parse_csv_line.
bool fast_fields(std::string_view line, std::string_view& assignment, std::string_view& org, bool& ok) {
  size_t c1 = line.find(',');
  if (c1 == std::string_view::npos) return false;
  size_t c2 = line.find(',', c1 + 1);
  if (c2 == std::string_view::npos) return false;
  if (has_quote_or_cr(line.substr(0, c2))) return false;
  assignment = line.substr(c1 + 1, c2 - c1 - 1);
  std::string_view rest = line.substr(c2 + 1);
  if (!rest.empty() && rest[0] == '"') {
    size_t q = rest.find('"', 1);
    // An escaped quote ("") or text after the closing quote: the slow path.
    if (q == std::string_view::npos || (q + 1 < rest.size() && rest[q + 1] != ',')) return false;
    org = rest.substr(1, q - 1);
  } else {
    org = rest.substr(0, rest.find(','));
    if (has_quote_or_cr(org)) return false;
  }
  ok = !assignment.empty();
  return true;
}

}  // namespace

bool parse_csv_fields(std::string_view line, std::string_view& assignment, std::string_view& org,
                      std::string& scratch) {
  bool ok = false;
  if (fast_fields(line, assignment, org, ok)) return ok;
  std::string a, o;
  if (!parse_csv_line(line, a, o)) return false;
  scratch = a + o;
  assignment = std::string_view(scratch).substr(0, a.size());
  org = std::string_view(scratch).substr(a.size());
  return true;
}

std::vector<Registry::Entry>* Registry::table(size_t digits) {
  if (digits == 6) return &by24_;
  if (digits == 7) return &by28_;
  if (digits == 9) return &by36_;
  return nullptr;
}

bool Registry::append(std::string_view hex, std::string_view org) {
  std::vector<Entry>* t = table(hex.size());
  if (!t) return false;
  uint64_t v = 0;
  for (char c : hex) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0) return false;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  t->push_back({v, static_cast<uint32_t>(names_.size()), static_cast<uint32_t>(org.size())});
  names_.append(org);
  return true;
}

void Registry::sort_tables() {
  for (std::vector<Entry>* t : {&by24_, &by28_, &by36_}) {
    // Stable: of a prefix listed twice, the later line stays last and wins.
    std::stable_sort(t->begin(), t->end(), [](const Entry& a, const Entry& b) { return a.prefix < b.prefix; });
    size_t out = 0;
    for (size_t i = 0; i < t->size(); i++) {
      if (i + 1 < t->size() && (*t)[i + 1].prefix == (*t)[i].prefix) continue;
      (*t)[out++] = (*t)[i];
    }
    t->resize(out);
  }
}

void Registry::add(std::string_view hex, std::string_view org) {
  parsed();  // the files' lines first: an added line comes after them and wins
  if (append(hex, org)) sort_tables();
}

bool Registry::load_file(const std::string& path, std::string& scratch) {
  std::string buf;
  if (!read_file(path, buf)) return false;
  size_t pos = buf.find('\n');  // the header
  pos = pos == std::string::npos ? buf.size() : pos + 1;
  std::string_view text(buf);
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view assignment, org;
    if (parse_csv_fields(text.substr(pos, end - pos), assignment, org, scratch)) append(assignment, org);
    pos = end + 1;
  }
  return true;
}

namespace {
// iab.csv: the retired IAB registry, 36-bit blocks like MA-S (00:50:C2:xx:x...).
constexpr const char* kFiles[] = {"oui.csv", "mam.csv", "oui36.csv", "iab.csv"};
}  // namespace

Result<Registry> Registry::load(const std::string& dir) {
  int files = 0;
  for (const char* name : kFiles) {
    int fd = open((dir + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) files++, close(fd);
  }
  if (files == 0)
    return make_error("no IEEE registry in " + dir + " (install the ieee-data package for MAC vendors)", ENOENT);
  Registry r;
  r.pending_ = std::make_unique<Pending>();
  r.pending_->dir = dir;
  return r;
}

void Registry::parse_files(const std::string& dir) {
  std::string scratch;
  for (const char* name : kFiles) load_file(dir + "/" + name, scratch);
  sort_tables();
}

const Registry& Registry::parsed() const {
  // The const_cast is sound: the parse writes only the mutable tables, and the once_flag lets one caller in.
  if (pending_) std::call_once(pending_->once, [this] { const_cast<Registry*>(this)->parse_files(pending_->dir); });
  return *this;
}

size_t Registry::size() const {
  const Registry& r = parsed();
  return r.by24_.size() + r.by28_.size() + r.by36_.size();
}

std::string_view Registry::find(const std::vector<Entry>& t, uint64_t prefix) const {
  auto it = std::lower_bound(t.begin(), t.end(), prefix, [](const Entry& e, uint64_t p) { return e.prefix < p; });
  if (it == t.end() || it->prefix != prefix) return {};
  return name(*it);
}

std::string Registry::vendor(const std::array<uint8_t, 6>& mac) const {
  if (mac[0] & 0x01) return "multicast";
  // Registry assignments are universal; a locally administered address says nothing of its maker.
  if (mac[0] & 0x02) return "locally administered";
  const Registry& r = parsed();
  for (auto [t, bits] : {std::pair{&r.by36_, 36}, std::pair{&r.by28_, 28}, std::pair{&r.by24_, 24}}) {
    if (std::string_view v = find(*t, prefix(mac, bits)); !v.empty()) return std::string(v);
  }
  return "";
}

}  // namespace rsthop::oui
