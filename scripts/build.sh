#!/usr/bin/env bash
# Build: the native socket helper (pxe/native, node-gyp) when present, then TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f pxe/native/binding.gyp ]; then
  if [ ! -f pxe/native/build/Release/netroot_sockopt.node ] || [ -n "$(find pxe/native -maxdepth 1 -newer pxe/native/build/Release/netroot_sockopt.node -type f)" ]; then
    (cd pxe/native && node ../../node_modules/node-gyp/bin/node-gyp.js rebuild --release --loglevel=error --nodedir="${npm_config_nodedir:-/usr}" >/dev/null)
  fi
fi
node node_modules/typescript/bin/tsc -p tsconfig.json
