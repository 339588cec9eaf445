#!/bin/sh
# Shows the whole flow on this machine: HR CSV → directory → OpenLDAP + a SCIM app.
# Needs slapd (Debian: apt-get install slapd ldap-utils) and `npm ci` in the repository.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
idplane="$repo/idplane"
env_file="$(mktemp)"
rm -rf "$here/.idplane"

node "$here/servers.ts" > "$env_file" &
servers=$!
trap 'kill $servers 2>/dev/null; wait $servers 2>/dev/null; rm -f "$env_file"' EXIT
for _ in $(seq 1 100); do grep -q 'servers ready' "$env_file" && break; sleep 0.1; done
. "$env_file"

echo "== idplane validate";              "$idplane" -C "$here" validate
echo "== idplane plan";                  "$idplane" -C "$here" plan
echo "== idplane apply --auto-approve";  "$idplane" -C "$here" apply --auto-approve | tail -n 3
echo "== idplane plan (again: nothing to do)"; "$idplane" -C "$here" plan | tail -n 1
echo "== LDAP entries";
if command -v ldapsearch >/dev/null; then
  ldapsearch -x -LLL -H "$LDAP_URL" -D cn=admin,dc=example,dc=com -w "$LDAP_PASSWORD" -b ou=people,dc=example,dc=com '(uid=*)' dn title employeeType | grep -E '^(dn|title|employeeType):' | head -n 24
fi
echo "== SCIM users";
curl -s -H "Authorization: Bearer $SCIM_TOKEN" "$SCIM_URL/Users" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const u of JSON.parse(s).Resources)console.log(u.userName, u.active===false?"(disabled)":"", u.title??"")})'
