#!/usr/bin/env bash
# Makes throw-away certificates for this example (development only).
#   ./certs.sh [DIR]      DIR defaults to $CERTS_DIR, else ./certs
# DIR is then usable as --secrets-dir DIR. Needs trustgate on PATH, or Go to
# build it from this repository.
. "$(dirname "$0")/../certs-lib.sh"

tg certs init --dir "$out" --cn "Sidecar Example CA"

# The sidecar's server certificate: clients connect by name or by loopback IP.
tg certs issue server --dir "$out" --name sidecar-cert --host app.sidecar.local --host 127.0.0.1

# Clients: an app caller and a Prometheus server scraping through /federate.
tg certs issue client --dir "$out" --name caller --cn caller --org Example
tg certs issue client --dir "$out" --name federation --cn prometheus-federation --org Example

echo "certificates in $out"
