#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

# A root CA and an intermediate CA that signs every leaf: the gateway's
# client CA bundle (ca.crt) is intermediate + root. --crl publishes a CRL for
# each CA from the start (valid 30 days: 'trustgate certs crl' renews them).
tg certs init --dir "$out" --cn "Example Root CA" --intermediate --crl

tg certs issue server --dir "$out" --name mtls-gateway-cert --host "*.mtls.example.com"

# alice: allowed by common name; her URI SAN reaches the backend as x-client-uri-san.
tg certs issue client --dir "$out" --name alice --cn alice --org "Example Partners" \
	--uri spiffe://example.com/partners/alice
# bob: allowed by full subject (CN=bob,O=Example Ops).
tg certs issue client --dir "$out" --name bob --cn bob --org "Example Ops"
# mallory: signed by the same CA, in no allow rule: 403.
tg certs issue client --dir "$out" --name mallory --cn mallory --org "Example Partners"

echo "certificates in $out"
