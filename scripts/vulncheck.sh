#!/usr/bin/env bash
# govulncheck over the whole module, against a local copy of the Go
# vulnerability database: vuln.go.dev cannot be reached from here or from CI,
# but the module proxy serves golang.org/x/vulndb, whose data/osv holds every
# report as OSV JSON. The vulndb repository's own cmd/indexdb turns that folder
# into the v1 database layout (index/db.json, index/modules.json, ID/GO-….json)
# that `govulncheck -db file://…` reads.
#
# The database is as of the pinned vulndb version (its date is in the
# pseudo-version); to bump it, set VULNDB_VERSION to what
# `go list -m golang.org/x/vulndb@latest` names (run outside this module) and
# run this script.
#
# A vulnerability that our code reaches fails the script, unless it is in the
# standard library and listed in scripts/vulncheck-accepted.txt with its
# reason (a module's is fixed by moving to its fixed version instead). A listed
# one that is no longer found fails it too, so the list stays true.
set -euo pipefail
cd "$(dirname "$0")/.."
# Check the toolchain the server is built with (go.mod's toolchain line).
export GOTOOLCHAIN=auto

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
GOVULNCHECK_VERSION=v1.9.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# `go mod download` outside this module, so go.mod stays as it is.
src=$(cd "$work" && go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src/data/osv" ] || { echo "golang.org/x/vulndb@$VULNDB_VERSION has no data/osv"; exit 1; }
(cd "$work" && go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$work/db")
stamp=${VULNDB_VERSION#v0.0.0-}
echo "govulncheck $GOVULNCHECK_VERSION, $(go env GOVERSION), vulnerability database golang.org/x/vulndb@$VULNDB_VERSION" \
  "($(ls "$src/data/osv" | wc -l) reports, up to ${stamp:0:4}-${stamp:4:2}-${stamp:6:2})"

go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$work/db" -format json ./... > "$work/findings.json"
python3 - "$work/findings.json" scripts/vulncheck-accepted.txt <<'PY'
import json, sys

# govulncheck -format json writes a stream of JSON objects, one message each.
text, decoder, at, osv, called = open(sys.argv[1]).read(), json.JSONDecoder(), 0, {}, {}
while True:
    while at < len(text) and text[at].isspace():
        at += 1
    if at == len(text):
        break
    message, at = decoder.raw_decode(text, at)
    if "osv" in message:
        osv[message["osv"]["id"]] = message["osv"]
    finding = message.get("finding")
    # A finding whose innermost frame names a function is one our code calls;
    # the others are only imported or required.
    if finding and finding["trace"][0].get("function"):
        called.setdefault(finding["osv"], finding)

accepted = {}
for line in open(sys.argv[2]):
    line = line.strip()
    if line and not line.startswith("#"):
        vuln_id, _, reason = line.partition(" ")
        accepted[vuln_id] = reason.strip()

failed = False
for vuln_id, finding in sorted(called.items()):
    frame = finding["trace"][0]
    where = f'{frame.get("package", frame["module"])}@{frame.get("version", "?")}'
    fixed = finding.get("fixed_version", "no fix")
    caller = finding["trace"][-1]
    pos = caller.get("position", {})
    line = f'{vuln_id} {where}, fixed in {fixed}: {osv.get(vuln_id, {}).get("summary", "")}'
    if frame["module"] == "stdlib" and vuln_id in accepted:
        print(f"accepted: {line}")
        continue
    failed = True
    print(f"FOUND:    {line}\n          reached from {caller.get('function', '?')} ({pos.get('filename', '?')}:{pos.get('line', '?')})")
for vuln_id in sorted(set(accepted) - set(called)):
    failed = True
    print(f"{vuln_id} is listed in scripts/vulncheck-accepted.txt but no longer found: remove it")
print(f"{len(called)} vulnerabilities reached by our code, {len(set(called) & set(accepted))} of them accepted")
sys.exit(1 if failed else 0)
PY
