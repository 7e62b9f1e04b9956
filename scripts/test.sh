#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need
# (PostgreSQL 15 for the storage tests, Chromium for the browser tests,
# poppler-utils to check PDFs), then vet, gofmt and every test on both
# database engines. PostgreSQL, browser and PDF (poppler) tests fail instead
# of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
# Build and test with the toolchain go.mod names (it carries security fixes
# the machine's Go may lack); Debian's Go defaults to GOTOOLCHAIN=local.
export GOTOOLCHAIN=auto
# SQLite runs on its own C code (mattn/go-sqlite3 through cgo, with its
# full-text module); every go command below, and the builds the tests make
# of the binary, use it. The pure-Go driver a build without the tag gets
# runs the store's and the inventory's tests at the end.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=sqlite_fts5"
command -v gcc >/dev/null 2>&1 || need_gcc=1

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
id postgres >/dev/null 2>&1 || need+=(postgresql-15)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v npx >/dev/null 2>&1 || need+=(nodejs npm)
[ -z "${need_gcc:-}" ] || need+=(gcc libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# initdb and postgres refuse to run as root; the test harness runs them as the
# postgres system user, which the Debian package normally creates.
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

export STOCKTRAIL_REQUIRE_PG=1 STOCKTRAIL_REQUIRE_BROWSER=1 STOCKTRAIL_REQUIRE_POPPLER=1
# Browser tests save their screenshots (both sizes, both engines) here, for
# people to look at after a run; the folder is not tracked.
export STOCKTRAIL_SCREENSHOTS="${STOCKTRAIL_SCREENSHOTS:-$PWD/test-output/screenshots}"
rm -rf test-output/screenshots
# The fault suite (database away, disk full) fails rather than skips: it
# needs PostgreSQL's programs and root (it mounts a small tmpfs). A
# developer without root may set STOCKTRAIL_REQUIRE_FAULTS=0 to skip it.
export STOCKTRAIL_REQUIRE_FAULTS="${STOCKTRAIL_REQUIRE_FAULTS:-1}"

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

# The API description lints clean with Redocly's strict rules (redocly.yaml
# lists the ones we switched off, and why); its operations all have ids.
openapi_dir=$(mktemp -d)
trap 'rm -rf "$openapi_dir"' EXIT
go run ./cmd/stocktrail openapi > "$openapi_dir/openapi.json"
npx --yes @redocly/cli@2.77.0 lint --config redocly.yaml "$openapi_dir/openapi.json" 2>&1 | grep -v -e '^ *[║╔╚]' -e '^$' || {
  echo "the OpenAPI description does not lint clean"; exit 1; }

# Known vulnerabilities our code reaches, from a local copy of the Go
# vulnerability database as of a pinned version (the script says how to bump
# it); the whole suite only.
if [ $# -eq 0 ]; then
  bash scripts/vulncheck.sh
fi
go test -count=1 -timeout 45m "$@" ./...
if [ $# -eq 0 ]; then
  # The same SQL on the pure-Go SQLite a build without cgo gets.
  GOFLAGS= CGO_ENABLED=0 go test -count=1 -timeout 20m ./internal/store/... ./internal/inventory/...
fi

# Fuzz: every target briefly (their seed corpora already ran as tests
# above), in the whole suite only; the long form is `bash scripts/fuzz.sh
# 10m` (README, "Tests").
if [ $# -eq 0 ]; then
  bash scripts/fuzz.sh 5s
fi
