#!/usr/bin/env bash
# Side by side: `trustgate translate` against Envoy Gateway's
# `egctl x translate` on the same workload (issue 16's 300x target;
# docs/performance.md, "Envoy Gateway at 200 hosts, again").
#
#   hack/compare-egctl.sh                 200 hosts, 3 rounds, trustgate 20 runs a round
#   HOSTS=1000 ROUNDS=5 LOOP=50 hack/compare-egctl.sh
#
# It writes both inputs with cmd/gencfg (DIR/istio.yaml and DIR/secrets for
# trustgate, DIR/gatewayapi.yaml for Envoy Gateway: the same Gateways,
# hosts, routes and client validation), builds trustgate from this checkout
# (or uses $TRUSTGATE), and then, ROUNDS times in turn: egctl once, trustgate
# once, and trustgate LOOP times in a loop (its per-run time is the loop's
# mean: one run is shorter than the clock's and the scheduler's noise). Every
# run writes to /dev/null. Wall, user + system CPU and peak RSS come from
# /usr/bin/time; the one-minute load average is printed before each round
# (the runs share the machine with whatever else runs on it).
#
# Envoy Gateway: $EGCTL, else egctl on PATH, else ~/go/bin/egctl; install with
#   go install github.com/envoyproxy/gateway/cmd/egctl@v1.9.1
# Without egctl, or without /usr/bin/time, the script says so and exits 0.
set -euo pipefail

HOSTS="${HOSTS:-200}"
ROUNDS="${ROUNDS:-3}"
LOOP="${LOOP:-20}"

egctl="${EGCTL:-}"
if [ -z "$egctl" ]; then
	egctl="$(command -v egctl || true)"
fi
if [ -z "$egctl" ] && [ -x "$HOME/go/bin/egctl" ]; then
	egctl="$HOME/go/bin/egctl"
fi
if [ -z "$egctl" ] || [ ! -x "$egctl" ]; then
	echo "compare-egctl: skipped: egctl not found (set EGCTL, or: go install github.com/envoyproxy/gateway/cmd/egctl@v1.9.1)"
	exit 0
fi
if [ ! -x /usr/bin/time ]; then
	echo "compare-egctl: skipped: /usr/bin/time (GNU time) not found; it measures CPU and peak RSS"
	exit 0
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

trustgate="${TRUSTGATE:-}"
if [ -z "$trustgate" ]; then
	(cd "$repo" && go build -o "$work/trustgate" ./cmd/trustgate)
	trustgate="$work/trustgate"
fi
(cd "$repo" && go run ./cmd/gencfg -dir "$work/in" -hosts "$HOSTS" -gateway-api >/dev/null)

echo "trustgate: $trustgate ($("$trustgate" --version | head -1))"
echo "egctl:     $egctl ($(go version -m "$egctl" 2>/dev/null | awk '$1 == "mod" { print $3 }'))"
echo "workload:  $HOSTS hosts (cmd/gencfg -gateway-api), $ROUNDS rounds, trustgate mean of $LOOP runs a round"
echo

tg() { "$trustgate" translate --config "$work/in/istio.yaml" --secrets-dir "$work/in/secrets"; }
eg() { "$egctl" x translate --from gateway-api --to xds -t all -o json -f "$work/in/gatewayapi.yaml"; }
export -f tg eg
export trustgate egctl work

# measure NAME CMD...: one line "NAME wall user sys maxrss_kb" from GNU time.
measure() {
	local name="$1"
	shift
	/usr/bin/time -o "$work/time" -f "%e %U %S %M" "$@" >/dev/null 2>"$work/stderr" || {
		echo "compare-egctl: $name failed:" >&2
		cat "$work/stderr" >&2
		exit 1
	}
	echo "$name $(cat "$work/time")"
}

: >"$work/results"
printf '%-6s %-5s %-22s %10s %10s %10s\n' round load run wall_s cpu_s rss_MiB
for round in $(seq "$ROUNDS"); do
	load="$(cut -d' ' -f1 /proc/loadavg)"
	{
		measure egctl bash -c eg
		measure trustgate bash -c tg
		# The loop's time over LOOP is trustgate's per-run figure; bash's
		# own share of it is a fork and an exec per run, as for any caller.
		measure loop bash -c "for i in \$(seq $LOOP); do tg; done"
	} | while read -r name wall user sys rss; do
		if [ "$name" = loop ]; then
			wall="$(awk -v w="$wall" -v n="$LOOP" 'BEGIN { printf "%.4f", w / n }')"
			cpu="$(awk -v u="$user" -v s="$sys" -v n="$LOOP" 'BEGIN { printf "%.4f", (u + s) / n }')"
			name="trustgate-mean-of-$LOOP"
		else
			cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
		fi
		mib="$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')"
		printf '%-6s %-5s %-22s %10s %10s %10s\n' "$round" "$load" "$name" "$wall" "$cpu" "$mib"
		echo "$round $name $wall $cpu" >>"$work/results"
	done
done

echo
# Per round: egctl's wall (CPU) over trustgate's mean of LOOP runs; then the
# range and median of each column.
awk -v loop="trustgate-mean-of-$LOOP" '
	$2 == "egctl" { ew[$1] = $3; ec[$1] = $4 }
	$2 == loop { tw[$1] = $3; tc[$1] = $4 }
	END { for (r in ew) printf "%s %s %.1f %.1f\n", ew[r], tw[r] * 1000, ew[r] / tw[r], ec[r] / tc[r] }' "$work/results" >"$work/ratios"
summary() { # column label unit
	sort -n -k"$1" "$work/ratios" | awk -v c="$1" -v label="$2" -v unit="$3" '
		{ v[NR] = $c }
		END { printf "%-36s %s-%s%s (median %s%s)\n", label, v[1], v[NR], unit, v[int((NR + 1) / 2)], unit }'
}
summary 1 "egctl x translate, wall" " s"
summary 2 "trustgate translate, wall, mean of $LOOP" " ms"
summary 3 "ratio, wall" "x"
summary 4 "ratio, CPU (user + sys)" "x"
