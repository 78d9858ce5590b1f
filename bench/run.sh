#!/usr/bin/env bash
# The benchmark command (README.md, BENCHMARKS.md): installs Bun and WS-Kit from
# bench/bun/package-lock.json, builds the harness in release mode, raises the open-file
# limit for the 10,000- and 100,000-connection scenarios, and runs every scenario against
# every server.
# Extra arguments go to `twinwire-bench all` (e.g. --runs 5, --servers twinwire,raw,
# --only echo, --only memory --idle-connections 100000, --baseline PATH to measure another
# twinwire-echo build in the same run).
# Takes about five minutes; prints one Markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x bench/bun/node_modules/bun/bin/bun.exe ] \
  || ! cmp -s bench/bun/package-lock.json bench/bun/node_modules/.package-lock.json.src 2>/dev/null; then
  echo "== npm ci (bench/bun: bun, @ws-kit/zod, @ws-kit/bun, zod)" >&2
  (cd bench/bun && npm ci --no-audit --no-fund --loglevel=error) >&2
  cp bench/bun/package-lock.json bench/bun/node_modules/.package-lock.json.src
fi

echo "== cargo build --release -p twinwire-bench" >&2
cargo build --release --locked -p twinwire-bench

# 100,000 idle connections in the load generator and as many in the server: two processes,
# each with its own limit, which the servers inherit. Raising the hard limit needs root with
# CAP_SYS_RESOURCE (a container may withhold it); without it the soft limit goes up to the
# hard one, and the harness skips the rows that do not fit with a note under the table.
want=131072
nr_open=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo "$want")
if [ "$nr_open" -lt "$want" ]; then
  want=$nr_open
fi
hard=$(ulimit -Hn)
if [ "$hard" != "unlimited" ] && [ "$hard" -lt "$want" ]; then
  if ! ulimit -Hn "$want" 2>/dev/null; then
    echo "note: cannot raise the hard open-file limit from $hard to $want (needs CAP_SYS_RESOURCE);" \
      "rows needing more are skipped" >&2
    want=$hard
  fi
fi
ulimit -Sn "$want"

if [ "$(ulimit -Sn)" -lt 11040 ]; then
  echo "warning: the open-file limit is $(ulimit -Sn): the fan-out to 10,000 will fail and" \
    "the idle-connection rows are skipped" >&2
fi

exec target/release/twinwire-bench all "$@"
