#!/usr/bin/env bash
# The benchmark command (README.md, BENCHMARKS.md): installs Bun and WS-Kit from
# bench/bun/package-lock.json, builds the harness in release mode, raises the open-file
# limit for the 10,000-connection scenarios, and runs every scenario against every server.
# Extra arguments go to `twinwire-bench all` (e.g. --runs 5, --servers twinwire,raw,
# --only echo, --baseline PATH to measure another twinwire-echo build in the same run).
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

# 10,000 server connections and as many clients (in two processes), plus headroom.
want=32768
hard=$(ulimit -Hn)
if [ "$hard" != "unlimited" ] && [ "$hard" -lt "$want" ]; then
  want=$hard
fi
ulimit -n "$want"
if [ "$(ulimit -n)" -lt 10100 ]; then
  echo "warning: the open-file limit is $(ulimit -n); the 10,000-connection scenarios will fail" >&2
fi

exec target/release/twinwire-bench all "$@"
