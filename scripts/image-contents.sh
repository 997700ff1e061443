#!/usr/bin/env bash
# Assembles what deploy/Dockerfile's runtime stage holds, without a Docker daemon: the build (dist/, generated/) from
# this checkout, then a production-only install (no devDependencies, no install scripts) in a fresh directory.
# Then runs `meshfed --help` and `meshfed version` from it, and prints the size of each part (as the image's layers
# would hold them, above node:20-bookworm-slim). Usage: scripts/image-contents.sh [DIR]   (default: a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
[ -f dist/js/meshfed.js ] || npm run build
mkdir -p "$out"
cp package.json package-lock.json "$out/"
(cd "$out" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
mkdir -p "$out/src/admin"
cp -r dist generated bin clusters "$out/"
cp -r src/admin/dashboard "$out/src/admin/"
rm -f "$out"/dist/js/*.map "$out"/dist/meta.json
if [ -d "$out/node_modules/tsx" ] || [ -d "$out/node_modules/typescript" ] || [ -d "$out/node_modules/esbuild" ]; then
  echo "image-contents: a devDependency was installed" >&2; exit 1
fi
(cd "$out" && env -u MESHFED_FROM_SOURCE node bin/meshfed.js --help >/dev/null && env -u MESHFED_FROM_SOURCE node bin/meshfed.js version)
size() { du -sk "$@" | awk '{s+=$1} END {printf "%.1f MB", s/1024}'; }
echo "image contents in $out: node_modules $(size "$out/node_modules"), dist $(size "$out/dist"), generated $(size "$out/generated"), rest $(size "$out/bin" "$out/src" "$out/clusters" "$out/package.json" "$out/package-lock.json"); total $(size "$out")"
