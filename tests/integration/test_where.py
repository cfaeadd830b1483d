"""Where events come from (issue 13, part 3): two `rsthop trace` runs on one
host, one in the client's network namespace and one in the server's, see the
same connections; each one's flow, reset and packet lines carry its own
namespace (rsthop.netns.inode, the inode of /run/netns/NAME) and, with the
client and the server in two cgroups of their own, the cgroup of the socket
(rsthop.cgroup.*) with the container and pod its path names."""
import os
import shutil
import time
import unittest
import uuid

from harness import Lab, Trace, event_type, of_type, require_root, validate


def cgroup2_root():
    """The host's cgroup2 mount point, from mountinfo ("" when there is none)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split(" ")[0] == "cgroup2":
                return left.split(" ")[4]
    return ""


class Cgroups:
    """Test cgroups under rsthop-test-<unique> at the cgroup2 root; remove() moves
    what is left in them back to the root and removes them, deepest first."""

    def __init__(self, root):
        self.root = root
        self.base = os.path.join(root, f"rsthop-test-{uuid.uuid4().hex[:8]}")
        os.mkdir(self.base)

    def make(self, rel):
        path = os.path.join(self.base, rel)
        os.makedirs(path)
        return path

    def relative(self, path):
        return "/" + os.path.relpath(path, self.root)

    def remove(self):
        deadline = time.time() + 10
        while os.path.isdir(self.base) and time.time() < deadline:
            for d, _, _ in sorted(os.walk(self.base), key=lambda w: -w[0].count("/")):
                try:
                    with open(os.path.join(d, "cgroup.procs")) as f:
                        pids = f.read().split()
                    for pid in pids:
                        with open(os.path.join(self.root, "cgroup.procs"), "w") as f:
                            f.write(pid)
                    os.rmdir(d)
                except OSError:
                    pass
            if os.path.isdir(self.base):
                time.sleep(0.2)
        if os.path.isdir(self.base):
            shutil.rmtree(self.base, ignore_errors=True)


class WhereTest(unittest.TestCase):
    def setUp(self):
        require_root(self)
        self.lab = Lab(routers=1, server_name="web.lab")
        self.lab.__enter__()
        self.addCleanup(self.lab.__exit__, None, None, None)

    def netns_inode(self, node):
        return os.stat(f"/run/netns/{self.lab.ns(node)}").st_ino

    def test_two_namespaces_tag_their_own_events(self):
        self.lab.start_server(abort_after_hello=True)  # a reset line too, from the server
        traces = {node: Trace(self.lab, node, ["-i", dev, "--packets"])
                  for node, dev in (("client", self.lab.client_if), ("server", self.lab.server_if))}
        for _ in range(3):
            self.lab.run("client", f"curl -sk -m 3 -o /dev/null --resolve web.lab:443:{self.lab.addr('server')} "
                                   "https://web.lab/", check=False)
        time.sleep(1.5)
        inodes = {node: self.netns_inode(node) for node in traces}
        self.assertNotEqual(inodes["client"], inodes["server"])
        for node, t in traces.items():
            events = t.stop()
            self.assertEqual(t.rc, 0, t.stderr)
            validate(events)
            tagged = [e for e in events if event_type(e) in ("flow", "reset", "packet")]
            for kind in ("flow", "reset", "packet"):
                self.assertTrue(of_type(events, kind), f"{node}: no {kind} line")
            for e in tagged:
                self.assertEqual(e["rsthop"]["netns"]["inode"], inodes[node], f"{node}: {e}")

    def test_two_cgroups_tag_their_sockets_flows_and_resets(self):
        root = cgroup2_root()
        self.assertTrue(root, "no cgroup2 file system is mounted")
        cg = Cgroups(root)
        self.addCleanup(cg.remove)  # after the lab's cleanup (LIFO): its processes are gone by then
        docker_id = uuid.uuid4().hex * 2
        cri_id = uuid.uuid4().hex * 2
        pod_uid = str(uuid.uuid4())
        client_cg = cg.make(f"system.slice/docker-{docker_id}.scope")
        server_cg = cg.make("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                            f"{pod_uid.replace('-', '_')}.slice/cri-containerd-{cri_id}.scope")

        def join(path):
            def enter():
                with open(os.path.join(path, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
            return enter

        # The server's listening socket is made in its cgroup; accepted sockets inherit it.
        self.lab.start_server(abort_after_hello=True, preexec_fn=join(server_cg))
        traces = {node: Trace(self.lab, node, ["-i", dev], host_mounts=True)
                  for node, dev in (("client", self.lab.client_if), ("server", self.lab.server_if))}
        for _ in range(3):
            self.lab.run("client", f"curl -sk -m 3 -o /dev/null --resolve web.lab:443:{self.lab.addr('server')} "
                                   "https://web.lab/", check=False, preexec_fn=join(client_cg))
        time.sleep(1.5)
        want = {
            "client": {"cgroup": {"id": os.stat(client_cg).st_ino, "path": cg.relative(client_cg)},
                       "container": {"id": docker_id, "runtime": "docker"}, "orchestrator": None},
            "server": {"cgroup": {"id": os.stat(server_cg).st_ino, "path": cg.relative(server_cg),
                                  "pod_qos": "besteffort"},
                       "container": {"id": cri_id, "runtime": "containerd"},
                       "orchestrator": {"type": "kubernetes", "resource": {"type": "pod", "id": pod_uid}}},
        }
        self.assertNotEqual(want["client"]["cgroup"]["id"], want["server"]["cgroup"]["id"])
        for node, t in traces.items():
            events = t.stop()
            self.assertEqual(t.rc, 0, t.stderr)
            self.assertNotIn("no cgroup2", t.stderr)
            validate(events)
            inode = self.netns_inode(node)
            self.assertEqual(len(of_type(events, "flow")), 3, f"{node}: {of_type(events, 'flow')}")
            for kind in ("flow", "reset"):
                lines = of_type(events, kind)
                self.assertTrue(lines, f"{node}: no {kind} line")
                for e in lines:
                    self.assertEqual(e["rsthop"]["netns"]["inode"], inode, f"{node}: {e}")
                    self.assertEqual(e["rsthop"].get("cgroup"), want[node]["cgroup"], f"{node}: {e}")
                    self.assertEqual(e.get("container"), want[node]["container"], f"{node}: {e}")
                    self.assertEqual(e.get("orchestrator"), want[node]["orchestrator"], f"{node}: {e}")

    def test_any_traces_every_interface_that_is_up(self):
        self.lab.start_server()
        t = Trace(self.lab, "r1", ["-i", "any", "--packets"])
        for dev in ("left0", "right0"):
            self.assertIn(f" {dev}:", t.stderr)
        self.lab.run("client", f"curl -s -m 3 -o /dev/null http://{self.lab.addr('server')}/", check=False)
        time.sleep(1.5)
        events = t.stop()
        self.assertEqual(t.rc, 0, t.stderr)
        validate(events)
        # One flow (the interfaces share the flow table), its packets seen on both sides of the router.
        self.assertTrue(of_type(events, "flow"))
        seen = {side.get("interface", {}).get("name")
                for p in of_type(events, "packet") for side in p.get("observer", {}).values()}
        self.assertTrue({"left0", "right0"} <= seen, seen)


if __name__ == "__main__":
    unittest.main(verbosity=2)
