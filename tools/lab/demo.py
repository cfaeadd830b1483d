"""The motivating story, in a lab: a client whose default gateway is an
F5-like load balancer (MAC from F5's OUI 00:01:d7) that resets HTTPS
connections to `customerweb` a few seconds after the ClientHello, while
port 80 works.  `rsthop diagnose customerweb:443` names the culprit.

Run through scripts/demo.sh (it builds first).  Everything lives in network
namespaces that exist only for the demo, on 198.18.0.0/15 addresses."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RSTHOP = os.environ.get("RSTHOP_BIN", os.path.join(ROOT, "build", "rsthop"))
RESET_AFTER_MS = int(os.environ.get("DEMO_RESET_AFTER_MS", "3000"))


def say(text=""):
    print(text, flush=True)


def step(lab, title, cmd):
    say(f"\n$ {cmd}    # {title}")
    r = lab.run("client", cmd, check=False, timeout=30)
    out = (r.stdout + r.stderr).strip()
    for line in out.splitlines()[-6:]:
        say(f"  {line}")
    return r


def main():
    with Lab(routers=2, server_name="customerweb") as lab:
        lab.start_server(name="customerweb")
        lab.lb_proxy(k=1, reset_after_ms=RESET_AFTER_MS)
        say("A client, its default gateway (a load balancer), a router, and the web server customerweb.")
        mac = lab.run("r1", "cat /sys/class/net/left0/address").stdout.strip()
        say(f"The gateway's MAC on the client's segment: {mac}")

        say("\nThe classic investigation, step by step:")
        step(lab, "port 80 answers", "curl -sS -o /dev/null -w 'HTTP %{http_code} -> %{redirect_url}\\n' "
                                     "http://customerweb/")
        step(lab, "HTTPS: the handshake works, then the connection is reset",
             f"(sleep {RESET_AFTER_MS / 1000 + 1.5:.1f}) | openssl s_client -connect customerweb:443 "
             "-servername customerweb -quiet 2>&1 | tail -2")

        hold = RESET_AFTER_MS / 1000 + 1
        say(f"\nThe same in one command:\n\n$ rsthop diagnose customerweb:443 --hold {hold:g}\n")
        r = lab.run("client", f"{RSTHOP} diagnose customerweb:443 --format text --hold {hold:g} 2>&1",
                    check=False, timeout=120)
        say(r.stdout.rstrip())
        ok = r.returncode == 0 and "origin middlebox, hop 1" in r.stdout and "F5 Networks" in r.stdout
        if not ok:
            say("\ndemo: rsthop did not name the load balancer at hop 1")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
