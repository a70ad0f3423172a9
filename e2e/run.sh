#!/usr/bin/env bash
# End-to-end checks against a real Envoy in Docker (needs a Docker engine with
# compose v2, Go, and network access to pull images). For each of the
# mtls-gateway and crl examples: make its certificates, generate Envoy's
# bootstrap, start trustgate + Envoy + an echo backend, run curl checks,
# tear down. Exit status 1 when any check failed. See README.md.
set -euo pipefail

cd "$(dirname "$0")"
e2e_dir="$PWD"
work="$e2e_dir/.work"
rm -rf "$work"
mkdir -p "$work"

echo "== building trustgate"
(cd .. && go build -o "$work/trustgate" ./cmd/trustgate)
export PATH="$work:$PATH"
export TG_UID="$(id -u)" TG_GID="$(id -g)"

failed=0
example=""

compose() { EXAMPLE="$example" docker compose -f "$e2e_dir/docker-compose.yaml" "$@"; }

# curl_in_envoy ARGS... runs curl inside Envoy's network namespace; it prints
# "<http code> <curl exit status>" on the last line, after the body.
curl_in_envoy() {
	local status=0
	compose run --rm -T client -sS --max-time 10 -w '\n%{http_code}' "$@" 2>/dev/null || status=$?
	echo " $status"
}

pass() { echo "PASS $example: $1"; }
fail() { echo "FAIL $example: $1"; failed=1; }

# expect_code NAME CODE CERT_NAME [CURL ARGS...]: CODE is an HTTP status, or
# "handshake" for a connection that gets no HTTP response at all.
expect_code() {
	local name="$1" want="$2" cert="$3"
	shift 3
	local tls=(--cacert /certs/client-ca/ca.crt)
	if [ "$cert" != none ]; then
		tls+=(--cert "/certs/$cert/tls.crt" --key "/certs/$cert/tls.key")
	fi
	local out last code status
	out="$(curl_in_envoy "${tls[@]}" "$@")"
	last="$(tail -n1 <<<"$out")"
	code="${last% *}"
	status="${last##* }"
	body="$(sed '$d' <<<"$out")"
	if [ "$want" = handshake ]; then
		# 35: TLS handshake failed; 56: TLS 1.3 reports the alert on the
		# first read, after the client's side of the handshake is done.
		if [ "$code" = 000 ] && { [ "$status" = 35 ] || [ "$status" = 56 ]; }; then
			pass "$name (no HTTP response, curl exit $status)"
		else
			fail "$name: want a failed handshake, got HTTP $code, curl exit $status"
		fi
		return
	fi
	if [ "$code" = "$want" ]; then pass "$name ($code)"; else fail "$name: want $want, got HTTP $code, curl exit $status"; fi
}

# expect_body NAME PATTERN: the last response body matches PATTERN (grep -E).
expect_body() {
	if grep -qE "$2" <<<"$body"; then pass "$1"; else fail "$1: body does not match '$2':"$'\n'"$body"; fi
}

# expect_no_body NAME PATTERN: the last response body does not match.
expect_no_body() {
	if grep -qE "$2" <<<"$body"; then fail "$1: body matches '$2':"$'\n'"$body"; else pass "$1"; fi
}

# envoy_stat NAME prints the value of an Envoy admin counter or gauge.
envoy_stat() {
	compose run --rm -T client -sS "http://127.0.0.1:9901/stats?filter=^$1\$" 2>/dev/null | sed -n "s/^$1: //p"
}

# wait_for NAME WANT CERT HOST: retries until CERT gets WANT from HOST, 60 s.
wait_for() {
	local i out
	for i in $(seq 1 30); do
		out="$(curl_in_envoy --cacert /certs/client-ca/ca.crt --cert "/certs/$3/tls.crt" --key "/certs/$3/tls.key" \
			--resolve "$4:443:127.0.0.1" "https://$4/")"
		if [ "$(tail -n1 <<<"$out")" = "$2 0" ] || { [ "$2" = handshake ] && [ "$(tail -n1 <<<"$out" | cut -d' ' -f1)" = 000 ]; }; then
			return 0
		fi
		sleep 2
	done
	fail "$1: still not $2 after 60 s"
	compose logs --tail 50 trustgate envoy || true
	return 1
}

start() {
	example="$1"
	echo "== $example"
	"$e2e_dir/../examples/$example/certs.sh" "$work/$example/certs"
	trustgate bootstrap --node-id "e2e-$example" --labels istio=ingressgateway \
		--xds-addr trustgate:18000 --insecure-xds --admin-port 9901 >"$work/$example/envoy.yaml"
	compose up -d --build
}

stop() {
	if [ "$failed" != 0 ]; then compose logs --tail 100 trustgate envoy || true; fi
	compose down -v --remove-orphans
}

check_mtls_gateway() {
	local host=api.mtls.example.com
	local at=(--resolve "$host:443:127.0.0.1" "https://$host/")
	wait_for "gateway ready" 200 alice "$host" || return 0
	expect_code "valid client (alice, allowed by CN)" 200 alice "${at[@]}"
	expect_body "identity header: subject" '^X-Client-Subject: CN=alice,O=Example Partners'
	expect_body "identity header: URI SAN" '^X-Client-Uri-San: spiffe://example.com/partners/alice'
	expect_body "identity header: issuer" '^X-Client-Issuer: CN=Example Root CA intermediate'
	expect_code "valid client (bob, allowed by subject)" 200 bob "${at[@]}"
	expect_code "no client certificate" handshake none "${at[@]}"
	expect_code "subject not allowed (mallory)" 403 mallory "${at[@]}"
	expect_code "subject not allowed, forged header" 403 mallory -H 'x-client-subject: CN=alice,O=Example Partners' "${at[@]}"
	expect_code "forged identity header" 200 alice -H 'x-client-subject: CN=admin' -H 'x-client-issuer: CN=evil' "${at[@]}"
	expect_no_body "forged subject not forwarded" 'CN=admin'
	expect_no_body "forged issuer not forwarded" 'CN=evil'
	expect_body "real subject forwarded instead" '^X-Client-Subject: CN=alice,O=Example Partners'
}

check_crl() {
	local host=crl.example.com
	local at=(--resolve "$host:443:127.0.0.1" "https://$host/")
	wait_for "gateway ready" 200 alice "$host" || return 0
	expect_code "valid client (alice)" 200 alice "${at[@]}"
	expect_code "revoked client (bob)" handshake bob "${at[@]}"
	expect_code "no client certificate" handshake none "${at[@]}"

	# Revoke alice now: trustgate must push the new CRL over SDS only.
	local modified_before lds_before
	modified_before="$(envoy_stat listener_manager.listener_modified)"
	lds_before="$(envoy_stat listener_manager.lds.update_success)"
	trustgate certs revoke --dir "$work/crl/certs" --name alice
	trustgate certs crl --dir "$work/crl/certs"
	wait_for "alice rejected after the CRL push" handshake alice "$host" && pass "alice rejected after the CRL push"
	local modified_after lds_after
	modified_after="$(envoy_stat listener_manager.listener_modified)"
	lds_after="$(envoy_stat listener_manager.lds.update_success)"
	if [ -n "$modified_before" ] && [ "$modified_before" = "$modified_after" ] && [ "$lds_before" = "$lds_after" ]; then
		pass "CRL pushed without a listener update (listener_modified $modified_after, lds.update_success $lds_after)"
	else
		fail "listener changed on a CRL push: listener_modified $modified_before -> $modified_after, lds.update_success $lds_before -> $lds_after"
	fi
}

trap 'stop >/dev/null 2>&1 || true' EXIT
for ex in mtls-gateway crl; do
	start "$ex"
	"check_${ex//-/_}"
	stop
done
trap - EXIT

if [ "$failed" != 0 ]; then
	echo "e2e: FAILED"
	exit 1
fi
echo "e2e: all checks passed"
