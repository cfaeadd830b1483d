#include "common/out_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace rsthop {
namespace {

Error cannot(const std::string& path, int err) {
  return make_error("cannot write to " + path + ": " + std::strerror(err), err);
}

}  // namespace

Result<Fd> open_output_file(const std::string& path, bool append) {
  // O_TRUNC is left out on purpose: only a regular file is truncated, below.
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : 0);
  Fd fd(::open(path.c_str(), flags | O_NOFOLLOW, 0644));
  const int err = errno;
  struct stat ls {};
  // O_NOFOLLOW refuses a symbolic link as the last component (ELOOP, or EACCES
  // in a sticky directory): follow it only when its owner is us or root (a
  // link another user planted in a shared directory is a trap).
  if (!fd.valid() && (err == ELOOP || err == EACCES) && ::lstat(path.c_str(), &ls) == 0 && S_ISLNK(ls.st_mode)) {
    if (ls.st_uid != ::geteuid() && ls.st_uid != 0)
      return make_error("cannot write to " + path + ": it is a symbolic link owned by uid " +
                            std::to_string(ls.st_uid) + ", which rsthop refuses to follow",
                        ELOOP);
    fd.reset(::open(path.c_str(), flags, 0644));
    if (!fd.valid()) return cannot(path, errno);
  }
  if (!fd.valid()) return cannot(path, err);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return cannot(path, errno);
  if (S_ISREG(st.st_mode) && !append && ::ftruncate(fd.get(), 0) != 0) return cannot(path, errno);
  return fd;
}

bool file_id(const std::string& path, FileId& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  out = {st.st_dev, st.st_ino};
  return true;
}

Result<void> refuse_output_as_input(const std::string& option, const std::string& output,
                                    const std::vector<std::string>& inputs) {
  FileId out;
  if (output.empty() || output == "-" || !file_id(output, out)) return {};
  for (const auto& in : inputs) {
    FileId id;
    if (in != "-" && file_id(in, id) && id == out) {
      std::string msg = option;
      msg.append(" ")
          .append(output)
          .append(" is the input ")
          .append(in)
          .append(": writing it would destroy the capture");
      return make_error(std::move(msg));
    }
  }
  return {};
}

}  // namespace rsthop
