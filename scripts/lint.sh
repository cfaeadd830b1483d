#!/usr/bin/env bash
# House rules, checked by scripts/test.sh and the lint.* tests:
#   lint.sh format        every tracked C/C++ file is clang-formatted (.clang-format, bpf/.clang-format)
#   lint.sh format --fix  reformat them in place
#   lint.sh tidy BUILD    clang-tidy's curated checks (.clang-tidy) over userspace/, with BUILD's
#                         compile_commands.json
set -euo pipefail
cd "$(dirname "$0")/.."

sources() { git ls-files -- 'userspace/*.cpp' 'userspace/*.h' 'bpf/*.c' 'bpf/*.h' 'tests/*.cpp' 'tests/*.h' \
                             'tools/*.cpp' 'tools/*.h'; }

case "${1:-}" in
  format)
    if [ "${2:-}" = "--fix" ]; then
      sources | xargs clang-format -i
    elif ! sources | xargs clang-format --dry-run -Werror 2>/tmp/rsthop-format.$$; then
      head -40 /tmp/rsthop-format.$$ >&2
      rm -f /tmp/rsthop-format.$$
      echo "lint: files are not clang-formatted; run scripts/lint.sh format --fix" >&2
      exit 1
    fi
    rm -f /tmp/rsthop-format.$$
    ;;
  tidy)
    build=${2:?usage: lint.sh tidy BUILD_DIR}
    # GCC-only warning flags in the compile commands mean nothing to clang-tidy.
    git ls-files -- 'userspace/*.cpp' |
      xargs -P "${TIDY_JOBS:-$(nproc)}" -n 4 clang-tidy -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option 2>/dev/null
    ;;
  *)
    echo "usage: lint.sh format [--fix] | tidy BUILD_DIR" >&2
    exit 2
    ;;
esac
