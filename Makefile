# Developer entry points. Every target is a thin wrapper around the go tool, so
# nothing here is needed to build or test: `go test ./...` is the test command.

GO       ?= go
BIN      ?= bin/trustgate
# FUZZTIME is how long each fuzz target runs under `make fuzz`.
FUZZTIME ?= 15s

.PHONY: build test run golden lint fuzz e2e bench

build:
	$(GO) build -o $(BIN) ./cmd/trustgate

test:
	$(GO) test ./...

# With no flags, serve runs the embedded default example.
run:
	$(GO) run ./cmd/trustgate serve

# Rewrites golden files (and envoy/*.yaml); read the diff before committing
# it. Only packages whose tests define -update (themselves or through
# internal/goldentest) get it: any other test binary rejects the flag.
golden:
	@pkgs="$$(grep -rlE --include='*_test.go' 'flag.Bool\("update"|internal/goldentest"' . | while read -r f; do dirname "$$f"; done | sort -u)"; \
	if [ -z "$$pkgs" ]; then echo "no package defines -update"; exit 0; fi; \
	echo $(GO) test $$pkgs -update; \
	$(GO) test $$pkgs -update

# golangci-lint (.golangci.yml) at the version pinned in .ci/lint, installed
# from the Go module proxy into ~/.cache/trustgate-tools on first use.
lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	bash .ci/lint

# Runs every Fuzz* function for FUZZTIME each; Go fuzzes one target per run.
fuzz:
	@set -e; \
	for file in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		pkg="$$(dirname "$$file")"; \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$file"); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

# Needs a Docker engine with compose; see e2e/README.md.
e2e:
	bash e2e/run.sh

# Benchmarks and the ADS load tool at small sizes (docs/performance.md has the
# method and the large sizes). Timings on a shared machine are noisy: compare
# runs with benchstat, and read CPU time and memory before wall time.
bench: build
	$(GO) test ./compile -run '^$$' -bench '/hosts=(100|1000)$$' -benchmem -benchtime 3x
	$(GO) test ./xds/server -run '^$$' -bench 'BenchmarkFanOut/.*/.*/proxies=(10|100)$$' -benchtime 1x
	$(GO) run ./cmd/xdsload -trustgate $(BIN) -hosts 100 -clients 100 -changes 3
	$(GO) run ./cmd/xdsload -trustgate $(BIN) -hosts 100 -clients 100 -changes 3 -delta -change cert
