#!/usr/bin/env bash
# The main job: installs what Castor needs, builds it, and runs the smart-factory demo (castor
# demo: a private mosquitto, castor serve with the factory's twins, the plant simulator) on
# loopback, without tokens. Ctrl-C stops everything; the data (.data/demo) stays for the next run.
# Usage: scripts/demo.sh [--port N] [--fresh] [other castor demo options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/bootstrap.sh"
echo "building Castor (first time: several minutes) ..."
CASTOR_BUILD_DIR="$root/build" "$root/scripts/build.sh"
exec "$root/build/bin/castor" demo --data "$root/.data/demo" "$@"
