# Sourced by every examples/<name>/certs.sh; not an example itself.
#
# Sets:
#   out  the absolute directory the certificates go to: the first argument,
#        else $CERTS_DIR, else <example>/certs (git-ignored). It is laid out as
#        trustgate's --secrets-dir: out/<secret>/{tls.crt,tls.key,ca.crt,ca.crl}.
#   tg   a function running `trustgate`: the one on PATH, else one built
#        from this repository (so the examples work from a plain clone).
# and stops early when out already holds a PKI, so re-running is harmless.
#
# The certificates are throw-away development certificates: their keys sit
# unencrypted in out/.pki. Never commit them.

set -euo pipefail

example_dir="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$example_dir/../.." && pwd)"

out="${1:-${CERTS_DIR:-$example_dir/certs}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [ -e "$out/.pki" ]; then
	echo "certificates already exist in $out (remove it to make new ones)"
	exit 0
fi

if command -v trustgate >/dev/null 2>&1; then
	tg() { trustgate "$@"; }
else
	tg_bin="$(mktemp -d)/trustgate"
	trap 'rm -rf "$(dirname "$tg_bin")"' EXIT
	echo "trustgate is not on PATH: building it from $repo_root"
	(cd "$repo_root" && go build -o "$tg_bin" ./cmd/trustgate)
	tg() { "$tg_bin" "$@"; }
fi
