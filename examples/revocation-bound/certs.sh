#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

tg certs init --dir "$out" --cn "Ledger Root CA" --intermediate

tg certs issue server --dir "$out" --name ledger-cert --host ledger.example.com
tg certs issue client --dir "$out" --name teller --cn teller --org Ledger
tg certs issue client --dir "$out" --name former-teller --cn former-teller --org Ledger

# former-teller left: revoke and publish CRLs for both CAs.
tg certs revoke --dir "$out" --name former-teller
tg certs crl --dir "$out"

echo "certificates in $out (former-teller is revoked)"
