#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

# The task's example.com root CA, httpbin.example.com's certificate and
# client.example.com's client certificate.
tg certs init --dir "$out" --cn example.com

# credentialName httpbin-credential: tls.crt, tls.key and ca.crt, like the
# task's "kubectl create secret generic httpbin-credential".
tg certs issue server --dir "$out" --name httpbin-credential --host httpbin.example.com
tg certs issue client --dir "$out" --name client --cn client.example.com --org "client organization"

echo "certificates in $out"
