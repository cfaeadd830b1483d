// What a cgroup v2 path says about the workload: the container (docker,
// containerd, CRI-O and podman scopes or cgroupfs directories) and the
// Kubernetes pod (its UID and QoS class, from the kubelet's slices or
// directories).  Pure string work, no file access.  The pod's name and
// namespace are not in the path, so they are not here.
#pragma once

#include <string>
#include <string_view>

namespace rsthop {

struct CgroupTags {
  std::string container_id;  // "" when the path names no container
  std::string runtime;       // "docker", "containerd", "cri-o", "podman"; "" when unknown
  std::string pod_uid;       // Kubernetes pod UID with dashes; "" when not a pod's cgroup
  std::string pod_qos;       // "guaranteed", "burstable", "besteffort"; "" when not a pod's cgroup
};

// `path` as /proc/PID/cgroup shows it (relative to the cgroup2 root, leading "/").
CgroupTags parse_cgroup_path(std::string_view path);

}  // namespace rsthop
