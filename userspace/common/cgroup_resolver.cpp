#include "common/cgroup_resolver.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace rsthop {
namespace {

constexpr int kMaxDepth = 32;

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        ok = ok && c >= '0' && c <= '7';
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The cgroup id of an open cgroup directory: its file handle on cgroup2
// (8 bytes, the kernfs id), its inode number elsewhere (tests on tmp dirs).
uint64_t dir_id(int fd) {
  struct statfs sfs {};
  if (fstatfs(fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
    struct {
      struct file_handle fh;
      unsigned char bytes[8];
    } h{};
    h.fh.handle_bytes = sizeof(h.bytes);
    int mount_id = 0;
    if (name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) == 0 && h.fh.handle_bytes == 8) {
      uint64_t id = 0;
      std::memcpy(&id, h.fh.f_handle, 8);
      return id;
    }
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace

std::string cgroup2_mount(const std::string& mountinfo) {
  std::istringstream in(mountinfo);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::vector<std::string> w;
    for (std::string x; f >> x;) w.push_back(x);
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    for (size_t i = 5; i + 1 < w.size(); ++i)
      if (w[i] == "-") {
        if (w[i + 1] == "cgroup2") return unescape(w[4]);
        break;
      }
  }
  return {};
}

CgroupResolver CgroupResolver::open() {
  std::ifstream f("/proc/self/mountinfo");
  std::stringstream text;
  text << f.rdbuf();
  Options o;
  o.root = cgroup2_mount(text.str());
  return CgroupResolver(o);
}

const CgroupInfo* CgroupResolver::lookup(uint64_t id) {
  if (id == 0 || opt_.root.empty()) return nullptr;
  auto it = cache_.find(id);
  if (it == cache_.end()) {
    auto now = std::chrono::steady_clock::now();
    if (last_walk_ && now - *last_walk_ < opt_.min_rewalk) return nullptr;
    last_walk_ = now;
    walk(id);
    it = cache_.find(id);
    if (it == cache_.end()) return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->second;
}

void CgroupResolver::walk(uint64_t wanted) {
  ++walks_;
  int fd = ::open(opt_.root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  size_t budget = opt_.max_dirs;
  remember(dir_id(fd), "/");
  walk_dir(fd, "", 0, budget, wanted);  // closes fd
}

// Depth first; `wanted` is remembered last, so a full cache still keeps it.
void CgroupResolver::walk_dir(int dirfd, const std::string& path, int depth, size_t& budget, uint64_t wanted) {
  DIR* d = fdopendir(dirfd);
  if (!d) {
    ::close(dirfd);
    return;
  }
  std::optional<std::string> found;
  while (dirent* e = readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.' || budget == 0) continue;
    int fd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    --budget;
    std::string child = path + "/" + e->d_name;
    uint64_t id = dir_id(fd);
    if (id == wanted) found = child;
    if (id != 0 && id != wanted) remember(id, child);
    if (depth + 1 < kMaxDepth) {
      walk_dir(fd, child, depth + 1, budget, wanted);
    } else {
      ::close(fd);
    }
  }
  closedir(d);
  if (found) remember(wanted, *found);
}

void CgroupResolver::remember(uint64_t id, std::string path) {
  if (id == 0 || opt_.max_entries == 0) return;
  if (auto it = cache_.find(id); it != cache_.end()) {
    lru_.erase(it->second);
    cache_.erase(it);
  }
  CgroupInfo info{std::move(path), {}};
  info.tags = parse_cgroup_path(info.path);
  lru_.emplace_front(id, std::move(info));
  cache_[id] = lru_.begin();
  while (cache_.size() > opt_.max_entries) {
    cache_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

}  // namespace rsthop
