// `rsthop analyze`'s held output: the line pass's lines kept in memory while
// the same read also runs the ladder scan (pcap/step_scan.h), since hop and
// verdict lines, when the scan finds a ladder, must come before any other
// line.  When the scan ends without one, release() writes the held lines, in
// order, to the real sink and every later line goes straight through; when it
// finds one, or the held lines pass the bound, the lines are dropped and
// analyze runs its two passes as before.  Statistics, reopen and reconnects
// are the real sink's, so lost and stats lines read as they would there.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "output/sink.h"

namespace rsthop::cli {

class HeldSink : public output::Sink {
 public:
  // 64 MiB of lines: the most this costs beyond the two passes' memory (the 2M-packet bench writes 9.4 MB).
  static constexpr size_t kBound = size_t{64} << 20;

  explicit HeldSink(output::Sink& real, size_t bound = kBound) : real_(real), bound_(bound) {}
  Result<void> write(std::string_view lines) override { return take(lines, false); }
  Result<void> write_accounting(std::string_view lines) override { return take(lines, true); }
  Result<void> reopen() override { return real_.reopen(); }
  bool reconnects() const override { return real_.reconnects(); }
  void disconnect() override { real_.disconnect(); }
  uint64_t oversize() const override { return real_.oversize(); }
  std::vector<output::SinkStats> stats() const override { return real_.stats(); }

  // More than the bound was offered: the held lines are gone, and the pass must be run again.
  bool over() const { return over_; }
  // The held lines to the real sink, as they came (plain and accounting writes apart); from now on
  // every write goes straight through.
  Result<void> release();

 private:
  Result<void> take(std::string_view lines, bool accounting);

  output::Sink& real_;
  size_t bound_;
  size_t held_bytes_ = 0;
  bool holding_ = true, over_ = false;
  std::vector<std::pair<std::string, bool>> held_;  // the lines of each write, and whether it was accounting
};

}  // namespace rsthop::cli
