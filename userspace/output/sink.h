// Where output lines go.  The writer does not know whether it writes to a
// terminal, a file or (later) a socket; a sink only moves bytes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fd.h"
#include "result.h"

namespace rsthop::output {

class Sink {
 public:
  virtual ~Sink() = default;
  // Writes `line` plus '\n' before returning, so a consumer tailing the
  // file never waits on a buffer and a crash loses no finished line.
  virtual Result<void> write_line(std::string_view line) = 0;
};

// Writes to a descriptor it does not own (stdout by default).
class StdoutSink : public Sink {
 public:
  explicit StdoutSink(int fd = 1) : fd_(fd) {}
  Result<void> write_line(std::string_view line) override;

 private:
  int fd_;
};

class FileSink : public Sink {
 public:
  // Creates or truncates `path` (mode 0644), or appends when `append`.
  // Fails with "cannot write to <path>: <strerror>".
  static Result<std::unique_ptr<Sink>> open(const std::string& path, bool append = false);
  Result<void> write_line(std::string_view line) override;

 private:
  FileSink(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
};

enum class Format { json, text };

// Renders event documents in one format and hands the lines to a sink.
class Writer {
 public:
  Writer(std::unique_ptr<Sink> sink, Format format) : sink_(std::move(sink)), format_(format) {}
  Result<void> emit(const nlohmann::json& event);
  // The exact line emit() writes, without the newline.
  std::string render(const nlohmann::json& event) const;

 private:
  std::unique_ptr<Sink> sink_;
  Format format_;
};

}  // namespace rsthop::output
