#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

tg certs init --dir "$out" --cn "Portal Example CA"

tg certs issue server --dir "$out" --name portal-cert --host portal.example.com
tg certs issue client --dir "$out" --name alice --cn alice --org Example

echo "certificates in $out"
