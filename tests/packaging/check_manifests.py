"""check_manifests.py RSTHOP SOURCE_DIR: the container manifests agree with the unit and the binary.

No Docker daemon or cluster is needed: the DaemonSet is parsed as YAML and held to what the unit
says (capabilities), what README says (metrics port 9464), and what `rsthop trace` accepts (every
key of the ConfigMap's and the example's [trace] sections is one of its long options)."""
import re
import subprocess
import sys
import tomllib

import yaml

rsthop, src = sys.argv[1], sys.argv[2]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


help_text = subprocess.run([rsthop, "trace", "--help"], capture_output=True, text=True, check=True).stdout
options = set(re.findall(r"--([a-z][a-z-]+)", help_text))
options.discard("help")
# Options other engineers add (--metrics) are checked only once the binary has them.
check("interface" in options and "stats-interval" in options, f"trace --help lists no options: {help_text}")


def check_config(text, where):
    conf = tomllib.loads(text)
    check(set(conf) == {"trace"}, f"{where}: sections other than [trace]: {sorted(conf)}")
    for key in conf.get("trace", {}):
        check(key in options or key == "output", f"{where}: [trace] key {key!r} is no option of rsthop trace")


with open(f"{src}/packaging/rsthop.toml") as f:
    check_config(f.read(), "packaging/rsthop.toml")

with open(f"{src}/packaging/rsthop.service") as f:
    unit = f.read()
bounding = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
want_caps = sorted(c.removeprefix("CAP_") for c in bounding)

with open(f"{src}/packaging/kubernetes/daemonset.yaml") as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
kinds = {d["kind"]: d for d in docs}
check(set(kinds) >= {"DaemonSet", "ConfigMap"}, f"daemonset.yaml holds {sorted(kinds)}")
ds = kinds["DaemonSet"]
pod = ds["spec"]["template"]["spec"]
check(ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items(),
      "the DaemonSet's selector does not match its pod labels")
check(pod.get("hostNetwork") is True, "the pod is not on the host's network")
(c,) = pod["containers"]
sc = c["securityContext"]
check(sc["capabilities"]["drop"] == ["ALL"], "the container does not drop ALL capabilities")
check(sorted(sc["capabilities"]["add"]) == want_caps,
      f"the container adds {sc['capabilities']['add']}, the unit's bounding set is {want_caps}")
check(sc.get("allowPrivilegeEscalation") is False and sc.get("privileged") is False, "the container may escalate")
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
check(ports.get("metrics") == 9464, f"the metrics port is not 9464: {ports}")
for probe in ("readinessProbe", "livenessProbe"):
    http = c.get(probe, {}).get("httpGet", {})
    check(http.get("path") == "/metrics" and http.get("port") in ("metrics", 9464), f"{probe}: {http}")
check("--metrics" in c["args"] and "0.0.0.0:9464" in c["args"], f"args do not serve metrics on 9464: {c['args']}")
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
check(mounts.get("config") == "/etc/rsthop" and "/etc/rsthop/rsthop.toml" in c["args"], "config not mounted/named")
check_config(kinds["ConfigMap"]["data"]["rsthop.toml"], "the ConfigMap's rsthop.toml")

with open(f"{src}/packaging/Dockerfile") as f:
    docker = f.read()
check(re.search(r"^FROM debian:bookworm", docker, re.M), "the Dockerfile is not Debian bookworm based")
check('ENTRYPOINT ["/usr/sbin/rsthop", "trace"]' in docker, "the Dockerfile's entry point is not /usr/sbin/rsthop trace")
check("libsystemd-dev" in docker and "libsystemd0" in docker, "the Dockerfile lacks libsystemd")

if errors:
    print("\n".join("FAIL: " + e for e in errors), file=sys.stderr)
    sys.exit(1)
print("manifests: ok")
