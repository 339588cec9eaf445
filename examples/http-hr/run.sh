#!/bin/sh
# Shows the whole flow on this machine: a paged HR REST API → idplane's directory.
# Needs `npm ci` in the repository.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
idplane="$repo/idplane"
env_file="$(mktemp)"
rm -rf "$here/.idplane"

node "$here/hr-api.ts" > "$env_file" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$env_file"' EXIT
for _ in $(seq 1 100); do grep -q 'HR API ready' "$env_file" && break; sleep 0.1; done
. "$env_file"

echo "== idplane validate";                     "$idplane" -C "$here" validate
echo "== idplane schema discover hr";           "$idplane" -C "$here" schema discover hr | head -n 12
echo "== idplane plan";                         "$idplane" -C "$here" plan | grep -E "^Plan:"
echo "== idplane apply --auto-approve";         "$idplane" -C "$here" apply --auto-approve | tail -n 1
echo "== idplane plan (again: nothing to do)";  "$idplane" -C "$here" plan | tail -n 1
echo "== idplane state show zoe.hopper.1030@example.com"
"$idplane" -C "$here" state show zoe.hopper.1030@example.com
