// cgroup v2 id -> path, for the socket cgroup ids the tracepoints report
// (the id is the cgroup directory's kernfs node id: its file handle, and its
// inode number on 64-bit kernels).  The tree under the cgroup2 mount is
// walked on a miss (at most once per `min_rewalk`, at most `max_dirs`
// directories, never through a symlink: openat with O_NOFOLLOW) and what the
// walk found is kept in an LRU cache of at most `max_entries` paths, so a
// host with many cgroups costs bounded memory.  Walking needs no privilege
// (cgroupfs directories are world-readable); finding the mount
// (/proc/self/mountinfo) is done by open(), before a privilege drop.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/cgroup_path.h"

namespace rsthop {

struct CgroupInfo {
  std::string path;  // relative to the cgroup2 root, "/" for the root cgroup
  CgroupTags tags;   // parse_cgroup_path(path)
};

class CgroupResolver {
 public:
  struct Options {
    std::string root;  // the cgroup2 mount point; "" = none (every lookup misses)
    size_t max_entries = 4096;
    size_t max_dirs = 65536;  // per walk
    std::chrono::steady_clock::duration min_rewalk = std::chrono::seconds(2);
  };

  explicit CgroupResolver(Options o) : opt_(std::move(o)) {}
  // The first cgroup2 mount of this mount namespace (none: lookups miss; `ip
  // netns exec` remounts /sys and hides /sys/fs/cgroup).
  static CgroupResolver open();

  // nullptr when the id is 0, not found, or not looked for (a walk too recent).
  // The pointer stays valid until the next lookup.
  const CgroupInfo* lookup(uint64_t id);

  const std::string& root() const { return opt_.root; }
  size_t size() const { return cache_.size(); }
  uint64_t walks() const { return walks_; }

 private:
  void walk(uint64_t wanted);
  void walk_dir(int dirfd, const std::string& path, int depth, size_t& budget, uint64_t wanted);
  void remember(uint64_t id, std::string path);

  Options opt_;
  using Lru = std::list<std::pair<uint64_t, CgroupInfo>>;
  Lru lru_;  // most recently used first
  std::unordered_map<uint64_t, Lru::iterator> cache_;
  std::optional<std::chrono::steady_clock::time_point> last_walk_;
  uint64_t walks_ = 0;
};

// The mount point of the first cgroup2 file system in mountinfo text ("" when none).
std::string cgroup2_mount(const std::string& mountinfo);

}  // namespace rsthop
