#!/usr/bin/env bash
# Puts Debian's kubectl (package kubernetes-client, 1.20) at .tools/bin/kubectl without touching /usr/bin,
# because some images already ship another package's /usr/bin/kubectl and dpkg refuses to overwrite it.
set -euo pipefail
cd "$(dirname "$0")/.."
if .tools/bin/kubectl version --client >/dev/null 2>&1; then exit 0; fi
tmp=$(mktemp -d)
(cd "$tmp" && apt-get download kubernetes-client >/dev/null 2>&1) || { apt-get update -qq && (cd "$tmp" && apt-get download kubernetes-client >/dev/null); }
dpkg -x "$tmp"/kubernetes-client_*.deb "$tmp/x"
mkdir -p .tools/bin
cp "$tmp/x/usr/bin/kubectl" .tools/bin/kubectl
rm -rf "$tmp"
.tools/bin/kubectl version --client
