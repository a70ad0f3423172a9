#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

# Root and intermediate CA: a CRL is published for each, as Envoy requires
# once any CA of a chain has one.
tg certs init --dir "$out" --cn "Example Root CA" --intermediate

tg certs issue server --dir "$out" --name crl-gateway-cert --host crl.example.com
tg certs issue client --dir "$out" --name alice --cn alice --org Example
tg certs issue client --dir "$out" --name bob --cn bob --org Example

# Revoke bob, then publish new CRLs for every CA; this refreshes ca.crl in
# every secret directory, crl-gateway-cert's included.
tg certs revoke --dir "$out" --name bob
tg certs crl --dir "$out"

echo "certificates in $out (bob is revoked)"
