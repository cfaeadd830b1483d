// Where output lines go.  The writer does not know whether it writes to a
// terminal, a file or a socket; a sink only moves bytes.  The network and
// syslog sinks are in sink_socket.h / sink_journal.h, the bounded queue in
// sink_queue.h, the set behind repeated -o in sink_set.h, the -o forms in
// sink_spec.h.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/fd.h"
#include "common/result.h"
#include "output/sink_stats.h"

namespace rsthop::output {

class Sink {
 public:
  virtual ~Sink() = default;
  // Writes all of `lines` (whole lines, each ending in '\n') before
  // returning, looping over partial writes, or fails with "cannot write to
  // <what>: <strerror>".  Sinks do not buffer; the Writer does.
  virtual Result<void> write(std::string_view lines) = 0;
  // Lines that account for others (`lost`, `stats`): a queue takes them even
  // when it is full, from a small reserve, so that what an output dropped is
  // counted in that very output.  Plain sinks write them as any line.
  virtual Result<void> write_accounting(std::string_view lines) { return write(lines); }
  // SIGHUP: a file sink reopens its path (logrotate); the others do nothing.
  virtual Result<void> reopen() { return {}; }
  // True when a failed write is transient (a socket that reconnects on the
  // next write after disconnect()); false when it ends the run (a full disk,
  // a closed stdout).
  virtual bool reconnects() const { return false; }
  virtual void disconnect() {}
  // Lines this sink refused because they exceed its message size limit.
  virtual uint64_t oversize() const { return 0; }
  // One entry per queued destination behind this sink (none for a plain one).
  virtual std::vector<SinkStats> stats() const { return {}; }
  // `line` plus '\n' in one write(), unbuffered.
  Result<void> write_line(std::string_view line);
};

// Writes to a descriptor it does not own (stdout by default).
class StdoutSink : public Sink {
 public:
  explicit StdoutSink(int fd = 1) : fd_(fd) {}
  Result<void> write(std::string_view lines) override;

 private:
  int fd_;
};

class FileSink : public Sink {
 public:
  // Creates or truncates `path` (mode 0644), or appends when `append`, as
  // open_output_file() does (common/out_file.h: another user's symlink is not
  // followed, only a regular file is truncated).  Fails with "cannot write to <path>: <strerror>".
  // The -o forms always append (O_APPEND: a copytruncate leaves no hole).  `clock` (monotonic
  // nanoseconds; nullptr: monotonic_now_ns) paces the rename checks below: tests pass their own.
  using Clock = uint64_t (*)();
  static Result<std::unique_ptr<Sink>> open(const std::string& path, bool append = false, Clock clock = nullptr);
  // Before a write, at most once a second, the path's (st_dev, st_ino) is
  // compared with the open file's: when the file was renamed away or
  // removed (logrotate without a signal), the path is reopened for appending.
  Result<void> write(std::string_view lines) override;
  // Reopens the path for appending now (SIGHUP).  On failure the old file
  // stays open and is written on; the error says why.
  Result<void> reopen() override;

 private:
  FileSink(Fd fd, std::string path, Clock clock) : fd_(std::move(fd)), path_(std::move(path)), clock_(clock) {}
  void follow_renames();
  Fd fd_;
  std::string path_;
  Clock clock_;
  uint64_t next_check_ns_ = 0;
};

enum class Format { json, text };

// Turns events into lines of one format and hands them to a sink in blocks.
//
// Lines are collected in a buffer and written when it passes kFlushBytes or
// when flush() is called; a block always ends on a line boundary, so a
// reader never sees half a line from us.  Callers flush after every batch
// of events (each ring-buffer poll or drain) and before exit: the ring
// buffer already holds events for up to one poll interval, so writing each
// line on its own would buy no latency, only system calls.
//
// JSON lines come from the fast builders in event.h (append_*_line); text
// lines are rendered from the parsed JSON line, so both formats come from
// the same document.
class Writer {
 public:
  static constexpr size_t kFlushBytes = 64 * 1024;

  Writer(std::unique_ptr<Sink> sink, Format format);
  // Flushes what is left, but cannot report a failure: call flush() first.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Adds one event: `build(line)` appends its JSON document, without a
  // newline, to `line`; e.g.
  //   writer.emit([&](std::string& l) { output::append_packet_line(l, ctx, p); });
  // Fails only when a write it triggers fails; the buffered lines are then
  // dropped, and the error says why.
  template <typename Build>
  requires std::invocable<Build, std::string&> Result<void> emit(Build&& build) {
    size_t start = buf_.size();
    build(buf_);
    return end_line(start);
  }
  // The same for a line that accounts for others (lost, stats): the buffered
  // lines go first, then this one on its own through Sink::write_accounting.
  template <typename Build>
  requires std::invocable<Build, std::string&> Result<void> emit_accounting(Build&& build) {
    if (auto r = flush(); !r) return r;
    build(buf_);
    finish_line(0);
    auto r = sink_->write_accounting(buf_);
    buf_.clear();
    return r;
  }
  // The same for a document already built (tests, tools).
  Result<void> emit(const nlohmann::json& event);
  // Writes every buffered line.
  Result<void> flush();
  // The exact line emit() adds for `event`, without the newline.
  std::string render(const nlohmann::json& event) const;
  // The sink it writes to (its stats() feed the stats and lost lines).
  const Sink& sink() const { return *sink_; }

 private:
  Result<void> end_line(size_t start);
  // The line from `start` in the writer's format, with its newline.
  void finish_line(size_t start);

  std::unique_ptr<Sink> sink_;
  Format format_;
  std::string buf_;
};

}  // namespace rsthop::output
