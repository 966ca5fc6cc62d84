#!/usr/bin/env bash
# Build: the native addons (pxe/native, node-gyp: every target of binding.gyp) when present, then
# TypeScript. The stamp is written after a whole build, so a new target or source rebuilds all.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f pxe/native/binding.gyp ]; then
  stamp=pxe/native/build/Release/.built
  if [ ! -f "$stamp" ] || [ -n "$(find pxe/native -maxdepth 1 -newer "$stamp" -type f)" ]; then
    (cd pxe/native && node ../../node_modules/node-gyp/bin/node-gyp.js rebuild --release --loglevel=error --nodedir="${npm_config_nodedir:-/usr}" >/dev/null)
    touch "$stamp"
  fi
fi
node node_modules/typescript/bin/tsc -p tsconfig.json
