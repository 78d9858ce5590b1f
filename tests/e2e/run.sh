#!/usr/bin/env bash
# End-to-end tests of the generated TypeScript client (called by scripts/test.sh): builds the
# Rust e2e server, installs WS-Kit and Bun (wskit/package-lock.json) when needed, type-checks
# the tests (test/generated-types.test-d.ts: misuse of the generated client must not compile)
# and the WS-Kit server, compiles the tests to a scratch folder and runs them with
# node --test. Any failure exits non-zero.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tsc="$root/node_modules/.bin/tsc"
if [ ! -x "$tsc" ]; then
  echo "e2e/run.sh: $tsc is missing; run 'npm ci' at the repository root (scripts/test.sh does)" >&2
  exit 1
fi

echo "-- cargo build -p twinwire-e2e-server"
cargo build --quiet --locked -p twinwire-e2e-server
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
export TWINWIRE_E2E_SERVER="$target_dir/debug/twinwire-e2e-server"

wskit="$here/wskit"
if [ ! -x "$wskit/node_modules/bun/bin/bun.exe" ] \
  || ! cmp -s "$wskit/package-lock.json" "$wskit/node_modules/.package-lock.json.src" 2>/dev/null; then
  echo "-- npm ci in ${wskit#"$root"/} (bun, @ws-kit/zod, @ws-kit/bun, zod)"
  (cd "$wskit" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$wskit/package-lock.json" "$wskit/node_modules/.package-lock.json.src"
fi
# bun's postinstall puts the platform's binary in place; a placeholder means it failed.
if ! "$wskit/node_modules/bun/bin/bun.exe" --version >/dev/null; then
  echo "e2e/run.sh: $wskit/node_modules/bun/bin/bun.exe does not run: bun's postinstall failed" >&2
  exit 1
fi
export TWINWIRE_E2E_WSKIT="$wskit"

echo "-- tsc --noEmit: the WS-Kit server (wskit/server.ts) against WS-Kit's and Bun's types"
"$tsc" -p "$wskit/tsconfig.json"

# Under target/ (git-ignored) so the compiled tests resolve `ws` from the root node_modules
# and load as ES modules through the root package.json ("type": "module").
mkdir -p "$root/target"
out="$(mktemp -d "$root/target/ts-e2e-tests.XXXXXX")"
trap 'rm -rf "$out"' EXIT
echo "-- tsc: type-check and compile the tests and the generated client to ${out#"$root"/}"
"$tsc" -p "$here/tsconfig.json" --outDir "$out"

echo "-- node --test"
shopt -s nullglob
tests=("$out"/tests/e2e/test/*.test.js)
if [ "${#tests[@]}" -eq 0 ]; then
  echo "e2e/run.sh: no compiled tests found in $out/tests/e2e/test" >&2
  exit 1
fi
# Every wait inside the tests is bounded; this catches anything that still hangs.
node --test --test-reporter=spec --test-timeout=60000 "$@" "${tests[@]}"
