#!/usr/bin/env bash
# The main job: installs what Castor needs, builds it, and runs it on an embedded data directory
# (.data/demo) on loopback, without tokens. Ctrl-C stops it; the data stays for the next run.
# Usage: scripts/demo.sh [--port N] [--fresh]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=8080
fresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    *) echo "usage: scripts/demo.sh [--port N] [--fresh]" >&2; exit 2 ;;
  esac
done
"$root/scripts/bootstrap.sh"
echo "building Castor (first time: several minutes) ..."
CASTOR_BUILD_DIR="$root/build" "$root/scripts/build.sh"
data="$root/.data/demo"
[ "$fresh" = 1 ] && rm -rf "$data"
mkdir -p "$data"
echo "demo data directory: $data (loopback only, no tokens: a demo, not a deployment)"
exec "$root/build/bin/castor" serve --data "$data" --insecure-local --listen "127.0.0.1:$port"
