#include "common/netns.h"

#include <sys/stat.h>

namespace rsthop {

uint64_t own_netns_inode() {
  struct stat st {};
  if (stat("/proc/self/ns/net", &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace rsthop
