#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

# The gateway's own PKI: one wildcard server certificate for both hosts.
tg certs init --dir "$out" --cn "Gateway Example CA"
tg certs issue server --dir "$out" --name wildcard-cert --host "*.example.com"

# Each partner runs its own PKI (kept in a hidden directory, which trustgate
# does not read as a secret). Its CA becomes the secret partner-<x>-ca, and
# one of its client certificates is copied out as partner-<x>-client.
for p in a b; do
	P="$(printf %s "$p" | tr a-z A-Z)"
	pki="$out/.partner-$p"
	tg certs init --dir "$pki" --cn "Partner $P CA" --ca-secret-name "partner-$p-ca"
	tg certs issue client --dir "$pki" --name client --cn "partner-$p-client" --org "Partner $P"
	cp -R "$pki/partner-$p-ca" "$out/partner-$p-ca"
	cp -R "$pki/client" "$out/partner-$p-client"
done

echo "certificates in $out"
