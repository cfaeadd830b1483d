// Opening the files rsthop writes (-o, --pcap-out) safely when it runs as root
// in directories other users can write to.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/fd.h"
#include "common/result.h"

namespace rsthop {

// Opens `path` for writing, created with mode 0644 (less the umask).
//
// Contract, for a process that may be root:
//  * a symbolic link as the last component is followed only when it belongs
//    to the caller's effective uid or to root; one planted by another user
//    is refused ("... is a symbolic link owned by uid N: refusing to follow it"),
//    so a link to /etc/shadow in a shared directory cannot be truncated;
//  * only a regular file is truncated (or appended to); a device or a FIFO
//    (/dev/null, /dev/full, a pipe) is written as it is, never truncated.
// Fails with one sentence naming `path` and `what` ("cannot write to ...").
Result<Fd> open_output_file(const std::string& path, bool append = false);

// The (device, inode) of each existing path; absent paths are skipped.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};
bool file_id(const std::string& path, FileId& out);

// An error when `output` names the same file as one of `inputs` (opening it
// would truncate the capture before it is read); empty `output` and "-" pass.
Result<void> refuse_output_as_input(const std::string& option, const std::string& output,
                                    const std::vector<std::string>& inputs);

}  // namespace rsthop
