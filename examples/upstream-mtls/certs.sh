#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

tg certs init --dir "$out" --cn "Shop Example CA"

# What clients see: the gateway's server certificate.
tg certs issue server --dir "$out" --name shop-cert --host shop.example.com
# The backend's own server certificate, checked by Envoy (CA + DNS SAN).
tg certs issue server --dir "$out" --name backend --host backend.internal
# The gateway's client certificate towards the backend (credentialName
# backend-client); its ca.crt is the CA Envoy checks the backend against.
tg certs issue client --dir "$out" --name backend-client --cn shop-gateway --org Example
# A certificate signed by the same CA but for another name: a backend using
# it must be refused (SAN mismatch).
tg certs issue server --dir "$out" --name impostor --host other.internal

echo "certificates in $out"
