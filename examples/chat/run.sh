#!/usr/bin/env bash
# Runs the chat example on a fresh machine (README's first command). From anywhere:
#
#   bash examples/chat/run.sh [chat-server options, e.g. --port 3000 --host 0.0.0.0]
#
# 1. installs the pinned npm tooling (esbuild, ...) from package-lock.json when missing,
# 2. checks that the generated Rust/TypeScript/JSON Schema files are fresh (twinwire check)
#    and that the protocol does not break peers of its committed manifest (twinwire breaking),
# 3. bundles the page into examples/chat/web/dist/,
# 4. builds and starts chat-server, which prints the URL to open (default
#    http://127.0.0.1:8080/). Ctrl-C stops it. No external service is needed.
set -euo pipefail
cd "$(dirname "$0")/../.."

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "run.sh: '$1' is missing: install $2" >&2; exit 1; }
}
need cargo "Rust (https://rustup.rs)"
need node "Node.js 20 or newer"
need npm "npm (comes with Node.js)"

# Same freshness marker as scripts/test.sh, so the two never reinstall for each other.
if [ ! -d node_modules/esbuild ] || ! cmp -s package-lock.json node_modules/.package-lock.json.src 2>/dev/null; then
  echo "== installing npm tooling from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.src
fi

echo "== checking the generated chat files are fresh (twinwire check)"
if ! cargo run --quiet --locked -p twinwire-codegen -- check --config examples/chat/twinwire.toml; then
  echo "run.sh: the generated files are stale; regenerate them with" >&2
  echo "  cargo run -p twinwire-codegen -- generate --config examples/chat/twinwire.toml" >&2
  exit 1
fi

echo "== checking the protocol against its committed manifest (twinwire breaking)"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  against="${TWINWIRE_BREAKING_AGAINST:-git:HEAD}"
else
  against="${TWINWIRE_BREAKING_AGAINST:-examples/chat/generated/protocol.manifest.json}"
fi
if ! cargo run --quiet --locked -p twinwire-codegen -- breaking --config examples/chat/twinwire.toml --against "$against"; then
  echo "run.sh: the protocol change breaks peers of the committed version (see above); make it" >&2
  echo "  compatible, or accept it in examples/chat/twinwire.toml with [[breaking.allow]] and a reason" >&2
  exit 1
fi

echo "== building the chat page"
node examples/chat/web/build.mjs

echo "== starting chat-server"
exec cargo run --quiet --locked -p chat-server -- "$@"
