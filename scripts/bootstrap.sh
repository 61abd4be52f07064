#!/usr/bin/env bash
# Installs what Castor needs on Debian 12 (bookworm). Idempotent and silent when all is present.
set -euo pipefail

APT_PACKAGES=(
  build-essential g++ cmake ninja-build ccache pkg-config git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev openssl
  libsimdjson-dev nlohmann-json3-dev librocksdb-dev libzstd-dev zstd libjemalloc-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev mosquitto mosquitto-clients
  libprotobuf-dev protobuf-compiler libmodbus-dev libnats-dev nats-server
  libpugixml-dev libzip-dev zipcmp zipmerge ziptool libeigen3-dev
  libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev postgresql victoria-metrics
  clang libclang-rt-14-dev clang-format python3 wrk
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "castor bootstrap: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "castor bootstrap: packages installed"
fi

# Node and npm for the tests that use real JavaScript clients (tests/integration/sdk: the Azure
# Digital Twins SDK). Checked by command, not by package: NodeSource's nodejs ships npm itself and
# conflicts with Debian's npm package.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "castor bootstrap: installing Debian packages: nodejs npm"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# npm packages go into each project's own node_modules, from its committed package-lock.json
# (npm ci), and only when the lock is newer than what is installed.
root=$(cd "$(dirname "$0")/.." && pwd)
for project in tests/integration/sdk web; do
  dir="$root/$project"
  installed="$dir/node_modules/.package-lock.json"
  if [ -f "$installed" ] && [ ! "$dir/package.json" -nt "$installed" ] &&
     { [ ! -f "$dir/package-lock.json" ] || [ ! "$dir/package-lock.json" -nt "$installed" ]; }; then
    continue
  fi
  echo "castor bootstrap: installing npm packages for $project"
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  else
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
done

# The web dashboard (docs/dashboard.md): built into web/dist, which castor serve --web-root and
# castor demo serve; rebuilt when a source is newer than the last build.
web="$root/web"
if [ ! -f "$web/dist/index.html" ] ||
   [ -n "$(find "$web/src" "$web/index.html" "$web/package.json" "$web/package-lock.json" "$web/vite.config.ts" \
           "$web/tsconfig.json" -newer "$web/dist/index.html" -print -quit)" ]; then
  echo "castor bootstrap: building the web dashboard (web/dist)"
  (cd "$web" && npm run build --silent >/dev/null)
fi
