// parse_cgroup_path on real-world layouts; CgroupResolver's walk, cache bound and refusal of symlinks.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/cgroup_path.h"
#include "common/cgroup_resolver.h"

namespace rsthop {
namespace {

const std::string kHex64 = "4f1c0f5e0a6b42b1b7d9d0b7c2f6a5e1c3d4b5a697887766554433221100ffee";
const std::string kUid = "0a1b2c3d-0000-4000-8000-00000000abcd";
const std::string kUidUnderscores = "0a1b2c3d_0000_4000_8000_00000000abcd";

struct PathCase {
  std::string path, container, runtime, pod_uid, qos;
};

TEST(CgroupPath, RealWorldLayouts) {
  const PathCase cases[] = {
      {"/", "", "", "", ""},
      {"/user.slice/user-1000.slice/session-2.scope", "", "", "", ""},
      {"/system.slice/nginx.service", "", "", "", ""},
      // Docker: systemd and cgroupfs drivers.
      {"/system.slice/docker-" + kHex64 + ".scope", kHex64, "docker", "", ""},
      {"/docker/" + kHex64, kHex64, "docker", "", ""},
      // Podman (the container's own cgroup is "container" under the scope) and its monitor.
      {"/machine.slice/libpod-" + kHex64 + ".scope/container", kHex64, "podman", "", ""},
      {"/machine.slice/libpod-conmon-" + kHex64 + ".scope", "", "", "", ""},
      {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kHex64 + ".scope", kHex64, "podman", "",
       ""},
      // Kubernetes, systemd driver: the three QoS classes, containerd and CRI-O.
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidUnderscores + ".slice/cri-containerd-" +
           kHex64 + ".scope",
       kHex64, "containerd", kUid, "burstable"},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidUnderscores + ".slice/crio-" + kHex64 +
           ".scope",
       kHex64, "cri-o", kUid, "besteffort"},
      {"/kubepods.slice/kubepods-pod" + kUidUnderscores + ".slice/cri-containerd-" + kHex64 + ".scope", kHex64,
       "containerd", kUid, "guaranteed"},
      {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + kUidUnderscores + ".slice/crio-conmon-" +
           kHex64 + ".scope",
       "", "", kUid, "besteffort"},
      // The pod's own slice (a pause-less socket), and dockershim.
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidUnderscores + ".slice", "", "", kUid,
       "burstable"},
      {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidUnderscores + ".slice/docker-" + kHex64 +
           ".scope",
       kHex64, "docker", kUid, "burstable"},
      // Kubernetes, cgroupfs driver: the runtime is not in the path.
      {"/kubepods/burstable/pod" + kUid + "/" + kHex64, kHex64, "", kUid, "burstable"},
      {"/kubepods/besteffort/pod" + kUid + "/" + kHex64, kHex64, "", kUid, "besteffort"},
      {"/kubepods/pod" + kUid + "/" + kHex64, kHex64, "", kUid, "guaranteed"},
      // Look-alikes are not containers or pods.
      {"/system.slice/docker-short.scope", "", "", "", ""},
      {"/system.slice/docker.service", "", "", "", ""},
      {"/pod" + kUid, "", "", "", ""},
      {"/kubepods/burstable/podnot-a-uid", "", "", "", ""},
      {"/other/" + kHex64, "", "", "", ""},
  };
  for (const auto& c : cases) {
    CgroupTags t = parse_cgroup_path(c.path);
    EXPECT_EQ(t.container_id, c.container) << c.path;
    EXPECT_EQ(t.runtime, c.runtime) << c.path;
    EXPECT_EQ(t.pod_uid, c.pod_uid) << c.path;
    EXPECT_EQ(t.pod_qos, c.qos) << c.path;
  }
}

TEST(CgroupMount, FirstCgroup2MountOfMountinfo) {
  const std::string v1 = "35 24 0:30 / /sys/fs/cgroup/cpu rw,relatime shared:15 - cgroup cgroup rw,cpu\n";
  const std::string v2 = "36 24 0:31 / /sys/fs/cgroup/unified rw,relatime shared:16 - cgroup2 cgroup2 rw\n";
  const std::string spaced = "37 24 0:32 / /mnt/my\\040cgroups rw - cgroup2 none rw\n";
  EXPECT_EQ(cgroup2_mount(v1 + v2), "/sys/fs/cgroup/unified");
  EXPECT_EQ(cgroup2_mount(v1), "");
  EXPECT_EQ(cgroup2_mount(spaced), "/mnt/my cgroups");
  EXPECT_EQ(cgroup2_mount(""), "");
}

// A tree of plain directories stands in for cgroupfs: ids are inode numbers there.
class Resolver : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rsthop-cgroup-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  uint64_t mkdir_id(const std::string& rel) {
    std::filesystem::create_directories(root_ + rel);
    struct stat st {};
    EXPECT_EQ(stat((root_ + rel).c_str(), &st), 0);
    return st.st_ino;
  }
  CgroupResolver make(size_t max_entries) {
    CgroupResolver::Options o;
    o.root = root_;
    o.max_entries = max_entries;
    o.min_rewalk = std::chrono::seconds(0);
    return CgroupResolver(o);
  }
  std::string root_;
};

TEST_F(Resolver, ResolvesIdsToPathsAndTags) {
  uint64_t a = mkdir_id("/rsthop-test/a");
  uint64_t pod =
      mkdir_id("/kubepods.slice/kubepods-pod" + kUidUnderscores + ".slice/cri-containerd-" + kHex64 + ".scope");
  CgroupResolver r = make(64);
  const CgroupInfo* i = r.lookup(a);
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->path, "/rsthop-test/a");
  EXPECT_EQ(r.walks(), 1u);
  i = r.lookup(pod);  // cached by the first walk
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->tags.container_id, kHex64);
  EXPECT_EQ(i->tags.pod_uid, kUid);
  EXPECT_EQ(r.walks(), 1u);
  EXPECT_EQ(r.lookup(0), nullptr);
  // A cgroup made after the walk is found by the next one (on the miss).
  uint64_t late = mkdir_id("/rsthop-test/b");
  ASSERT_NE(r.lookup(late), nullptr);
  EXPECT_EQ(r.lookup(late)->path, "/rsthop-test/b");
  EXPECT_EQ(r.walks(), 2u);
}

TEST_F(Resolver, CacheStaysWithinItsBoundAndKeepsTheWantedPath) {
  uint64_t wanted = 0;
  for (int i = 0; i < 20; ++i) {
    uint64_t id = mkdir_id("/many/c" + std::to_string(i));
    if (i == 3) wanted = id;
  }
  CgroupResolver r = make(4);
  const CgroupInfo* i = r.lookup(wanted);
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->path, "/many/c3");
  EXPECT_LE(r.size(), 4u);
  EXPECT_EQ(r.lookup(wanted)->path, "/many/c3");
  EXPECT_EQ(r.walks(), 1u);
}

TEST_F(Resolver, MissesAreRateLimitedAndSymlinksNotFollowed) {
  uint64_t outside = mkdir_id("/../rsthop-cgroup-outside-" + std::to_string(getpid()));
  std::string outside_dir =
      std::filesystem::path(root_).parent_path() / ("rsthop-cgroup-outside-" + std::to_string(getpid()));
  std::filesystem::create_directory_symlink(outside_dir, root_ + "/link");
  CgroupResolver r = make(64);
  EXPECT_EQ(r.lookup(outside), nullptr);  // only reachable through the symlink
  std::filesystem::remove_all(outside_dir);
  CgroupResolver::Options o;
  o.root = root_;
  o.min_rewalk = std::chrono::hours(1);
  CgroupResolver slow(o);
  EXPECT_EQ(slow.lookup(12345678), nullptr);
  EXPECT_EQ(slow.lookup(12345679), nullptr);
  EXPECT_EQ(slow.walks(), 1u);  // the second miss came too soon for another walk
  CgroupResolver none(CgroupResolver::Options{});
  EXPECT_EQ(none.lookup(1), nullptr);
  EXPECT_EQ(none.walks(), 0u);
}

}  // namespace
}  // namespace rsthop
