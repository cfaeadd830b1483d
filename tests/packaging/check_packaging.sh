#!/usr/bin/env bash
# check_packaging.sh CHECK BUILD_DIR SOURCE_DIR: one packaging check; exits non-zero on failure.
#   install       cmake --install into a staging prefix and a DESTDIR with prefix /usr: the expected files
#   unit          systemd-analyze verify on the installed unit, and its hardening settings are there
#   man           the man page renders without a warning (man -l, groff -ww)
#   completion    the bash completion loads and completes commands and options
#   deb           cpack -G DEB: dpkg-deb -I / -c, and lintian finds no error or warning
#   capabilities  (root) trace runs in a fresh netns inside the unit's CapabilityBoundingSet,
#                 and fails without CAP_BPF
set -euo pipefail
check=$1 build=$2 src=$3
tmp=$(mktemp -d /tmp/rsthop-packaging.XXXXXX)
ns=""
cleanup() {
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

stage() {  # installs into $tmp/stage (prefix) and echoes the prefix
  cmake --install "$build" --prefix "$tmp/stage" >"$tmp/install.log" || { cat "$tmp/install.log" >&2; exit 1; }
  echo "$tmp/stage"
}

case $check in
install)
  p=$(stage)
  for f in sbin/rsthop lib/systemd/system/rsthop.service etc/rsthop/rsthop.toml share/man/man8/rsthop.8.gz \
           share/bash-completion/completions/rsthop share/doc/rsthop/copyright share/doc/rsthop/changelog.gz; do
    [ -f "$p/$f" ] || fail "cmake --install did not install $f"
  done
  [ -x "$p/sbin/rsthop" ] || fail "sbin/rsthop is not executable"
  grep -q "^rsthop " <<<"$("$p/sbin/rsthop" --version)" || fail "the installed binary does not run"
  grep -q "^ExecStart=$p/sbin/rsthop trace --config " "$p/lib/systemd/system/rsthop.service" ||
    fail "the staged unit's ExecStart does not name the staged binary"
  # The system layout (what the .deb holds): prefix /usr, unit and config outside it.
  DESTDIR="$tmp/root" cmake --install "$build" --prefix /usr >/dev/null
  for f in usr/sbin/rsthop lib/systemd/system/rsthop.service etc/rsthop/rsthop.toml usr/share/man/man8/rsthop.8.gz \
           usr/share/bash-completion/completions/rsthop; do
    [ -f "$tmp/root/$f" ] || fail "DESTDIR install with prefix /usr did not install /$f"
  done
  grep -q '^ExecStart=/usr/sbin/rsthop trace --config /etc/rsthop/rsthop.toml$' "$tmp/root/lib/systemd/system/rsthop.service" ||
    fail "the system unit's ExecStart is not /usr/sbin/rsthop"
  echo "install: ok"
  ;;
unit)
  p=$(stage)
  unit="$p/lib/systemd/system/rsthop.service"
  # verify loads the unit as systemd would; any complaint about it is a failure.
  # MANPATH: Documentation=man:rsthop(8) must resolve to the installed page.
  out=$(MANPATH="$p/share/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
  if echo "$out" | grep -i 'rsthop'; then fail "systemd-analyze verify complained: $out"; fi
  for want in Type=notify WatchdogSec= NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
              RestrictAddressFamilies= SystemCallArchitectures=native \
              'CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_NET_ADMIN' 'ExecReload=/bin/kill -HUP $MAINPID'; do
    grep -qF "$want" "$unit" || fail "the unit lacks $want"
  done
  echo "unit: ok"
  ;;
man)
  page="$src/packaging/rsthop.8"
  err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$page" 2>&1 >/dev/null) || fail "man -l failed: $err"
  [ -z "$err" ] || fail "man -l warned: $err"
  err=$(groff -man -ww -z "$page" 2>&1) || fail "groff failed: $err"
  [ -z "$err" ] || fail "groff warned: $err"
  text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null)
  # Every option trace --help lists is in the page.
  for opt in $("$build/rsthop" trace --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    grep -qF -- "$opt" <<<"$text" || fail "the man page does not document trace $opt"
  done
  echo "man: ok"
  ;;
completion)
  comp="$src/packaging/rsthop.bash-completion"
  out=$(bash --norc --noprofile -c '
    set -e
    source "$1"
    complete -p rsthop
    complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _rsthop; echo "${COMPREPLY[*]}"; }
    echo "commands: $(complete_words rsthop tr)"
    echo "options: $(complete_words rsthop trace --stats)"
    echo "xdp: $(complete_words rsthop trace --xdp g)"
  ' _ "$comp" 2>&1) || fail "the completion does not load: $out"
  grep -q '^complete -F _rsthop rsthop$' <<<"$out" || fail "no completion registered for rsthop: $out"
  grep -q '^commands: trace$' <<<"$out" || fail "'rsthop tr<TAB>' did not complete to trace: $out"
  grep -q '^options: --stats-interval$' <<<"$out" || fail "'--stats<TAB>' did not complete: $out"
  grep -q '^xdp: generic$' <<<"$out" || fail "'--xdp g<TAB>' did not complete: $out"
  echo "completion: ok"
  ;;
deb)
  (cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) ||
    { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB failed"; }
  deb=$(ls "$tmp"/out/*.deb)
  info=$(dpkg-deb -I "$deb")
  echo "$info"
  grep -q ' Package: rsthop$' <<<"$info" || fail "dpkg-deb -I: no Package: rsthop"
  grep -qE ' Depends: .*libbpf1' <<<"$info" || fail "dpkg-deb -I: Depends lacks libbpf1 (shlibdeps)"
  grep -q ' conffiles' <<<"$info" || fail "dpkg-deb -I: no conffiles"
  files=$(dpkg-deb -c "$deb")
  for f in ./usr/sbin/rsthop ./lib/systemd/system/rsthop.service ./etc/rsthop/rsthop.toml \
           ./usr/share/man/man8/rsthop.8.gz ./usr/share/bash-completion/completions/rsthop \
           ./usr/share/doc/rsthop/copyright; do
    grep -qE " $f\$" <<<"$files" || fail "the .deb lacks $f"
  done
  # Errors and warnings fail (there are no overrides).
  lintian --tag-display-limit 0 "$deb" >"$tmp/lintian.log" 2>&1 || true
  cat "$tmp/lintian.log"
  if grep -E '^(E|W):' "$tmp/lintian.log"; then fail "lintian found errors or warnings"; fi
  echo "deb: ok"
  ;;
capabilities)
  if [ "$(id -u)" -ne 0 ]; then
    [ "${RSTHOP_REQUIRE_PRIVILEGED:-}" = 1 ] && fail "needs root (RSTHOP_REQUIRE_PRIVILEGED=1 forbids skipping)"
    echo "capabilities: skipped (needs root)"; exit 0
  fi
  caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$src/packaging/rsthop.service")
  [ -n "$caps" ] || fail "the unit has no CapabilityBoundingSet"
  bset=-all
  for c in $caps; do bset+=",+$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"; done
  ns="rsthop-pkg-$$-$RANDOM"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  run() {  # run BOUNDING_SET: trace lo for 1 s, as the unit would (no new privileges, no inheritable caps)
    ip netns exec "$ns" setpriv --no-new-privs --inh-caps=-all --bounding-set="$1" \
      "$build/rsthop" trace -i lo -d 1 --stats-interval 0 --format json
  }
  out=$(run "$bset" 2>"$tmp/err") || fail "trace inside the bounding set $caps failed: $(cat "$tmp/err")"
  grep -q '"final":true' <<<"$out" || fail "no final stats line inside the bounding set: $out"
  # The check can fail: without CAP_BPF the same run must not attach.
  if run "${bset/,+bpf/}" >/dev/null 2>"$tmp/err"; then fail "trace ran without CAP_BPF: the check proves nothing"; fi
  echo "capabilities: ok ($caps suffice; without CAP_BPF: $(head -c 200 "$tmp/err"))"
  ;;
*) fail "unknown check $check" ;;
esac
