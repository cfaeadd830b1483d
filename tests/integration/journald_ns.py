"""A private systemd-journald for one test, in a mount namespace of its own.

PID 1 is not systemd here, and the host's journal (if any) is not the tests'
to write to: the test starts this file as
    unshare --mount --propagation private python3 journald_ns.py DIR
which, inside the new mount namespace only, hides /run/systemd, /run/log and
/var/log/journal under fresh tmpfs mounts, binds a private machine-id over
/etc/machine-id, writes a drop-in (volatile storage, no rate limit, no kmsg,
nothing forwarded) and starts /lib/systemd/systemd-journald by hand.  Its
sockets (/run/systemd/journal/socket...) exist in that namespace only, so the
host's /dev/log and /run/systemd/journal are never touched.  Other
processes join with `nsenter --mount=/proc/PID/ns/mnt` (PrivateJournald.prefix).

Protocol on stdout: one line, "ready JOURNALD_PID" or "error: SENTENCE".
Stopping: end of stdin or SIGTERM; journald is then stopped by its PID and
its exit status is the helper's."""
import json
import os
import signal
import stat
import subprocess
import sys
import time
import unittest
import uuid

JOURNALD = "/lib/systemd/systemd-journald"
SOCKET = "/run/systemd/journal/socket"
RUNTIME_DIR = "/run/log/journal"
CONF = """[Journal]
Storage=volatile
ReadKMsg=no
RateLimitIntervalSec=0
RateLimitBurst=0
ForwardToSyslog=no
ForwardToKMsg=no
ForwardToConsole=no
ForwardToWall=no
"""


def hide(path):
    """A fresh tmpfs over path, in this mount namespace only."""
    if not os.path.isdir(path):
        raise RuntimeError(f"cannot hide {path} under a tmpfs: it is not a directory here")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", path], check=True, capture_output=True)


def is_socket(path):
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def start(workdir):
    """Prepares the namespace and starts journald; returns its Popen."""
    if os.readlink("/proc/self/ns/mnt") == os.readlink(f"/proc/{os.getppid()}/ns/mnt"):
        raise RuntimeError("refusing to start in the caller's mount namespace (run me under unshare --mount)")
    for path in ("/run/systemd", "/run/log"):
        hide(path)
    if os.path.isdir("/var/log/journal"):
        hide("/var/log/journal")  # Storage=volatile already keeps it out; belt and braces
    machine_id = os.path.join(workdir, "machine-id")
    with open(machine_id, "w") as f:
        f.write(uuid.uuid4().hex + "\n")
    subprocess.run(["mount", "--bind", machine_id, "/etc/machine-id"], check=True, capture_output=True)
    os.makedirs("/run/systemd/journald.conf.d")
    with open("/run/systemd/journald.conf.d/rsthop-test.conf", "w") as f:
        f.write(CONF)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_LOG_TARGET": "console", "SYSTEMD_LOG_LEVEL": "info"}
    log = open(os.path.join(workdir, "journald.log"), "wb")
    proc = subprocess.Popen([JOURNALD], stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None and not is_socket(SOCKET):
        time.sleep(0.05)
    if not is_socket(SOCKET):
        stop(proc)
        with open(os.path.join(workdir, "journald.log"), errors="replace") as f:
            tail = f.read()[-400:].replace("\n", " | ")
        raise RuntimeError(f"{JOURNALD} did not create {SOCKET} (exit status {proc.returncode}): {tail}")
    return proc


def stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


class Stop(Exception):
    pass


def on_sigterm(*_):
    raise Stop()


def main():
    workdir = sys.argv[1]
    try:
        proc = start(workdir)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        detail = e.stderr.decode(errors="replace").strip() if isinstance(e, subprocess.CalledProcessError) else ""
        print(f"error: {e} {detail}".strip(), flush=True)
        return 1
    signal.signal(signal.SIGTERM, on_sigterm)  # ends the wait below; journald is stopped after it
    print(f"ready {proc.pid}", flush=True)
    try:
        sys.stdin.read()
    except (Stop, OSError):
        pass
    return stop(proc)


class PrivateJournald:
    """The test's side: starts the helper under unshare, runs commands in its
    namespace, reads the journal there, and stops it by PID."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", sys.executable,
                                      os.path.abspath(__file__), workdir],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("ready "):
            self.stop()
            raise RuntimeError(line or f"the journald helper exited with status {self.proc.returncode}")
        self.journald_pid = int(line.split()[1])

    def prefix(self):
        """Runs what follows in the private journald's mount namespace."""
        return ["nsenter", f"--mount=/proc/{self.proc.pid}/ns/mnt", "--"]

    def run(self, argv, **kw):
        return subprocess.run(self.prefix() + list(argv), capture_output=True, text=True, **kw)

    def entries(self, *matches):
        """Every entry (journalctl -o json, --all: long fields are not nulled) matching matches."""
        sync = self.run(["journalctl", "--sync"], timeout=30)
        if sync.returncode != 0:
            raise AssertionError(f"journalctl --sync failed: {sync.stderr.strip()}")
        r = self.run(["journalctl", f"--directory={RUNTIME_DIR}", "--all", "--no-pager", "-o", "json"] + list(matches),
                     timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"journalctl failed: {r.stderr.strip()}")
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    def stop(self):
        """Ends the helper (it stops journald by PID); returns journald's exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
        self.proc.stdout.close()
        return self.proc.returncode


def start_or_fail(test, workdir):
    """A PrivateJournald, or the test skipped (failed under RSTHOP_REQUIRE_PRIVILEGED=1)."""
    why = None
    if not os.access(JOURNALD, os.X_OK):
        why = f"{JOURNALD} is not installed"
    else:
        try:
            return PrivateJournald(workdir)
        except (RuntimeError, OSError) as e:
            why = f"a private journald could not be started: {e}"
    if os.environ.get("RSTHOP_REQUIRE_PRIVILEGED") == "1":
        test.fail(why + " (RSTHOP_REQUIRE_PRIVILEGED=1 forbids skipping)")
    raise unittest.SkipTest(why)


if __name__ == "__main__":
    sys.exit(main())
