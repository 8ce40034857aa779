# jobsync — make targets. Everything here needs only Go (and, for `test`, the
# Debian packages hack/test-deps.sh installs: git, sshd, etcd, chromium, tidy).
#
#   make run     build, then run the agent on examples/ with the embedded target
#   make test    go vet + every test (builds the e2e control plane once, cached)
#   make build   bin/jobsync, version from git describe
#   make bench   benchmarks -> bench.txt
#   make fuzz    every fuzz target for FUZZTIME each (default 30s)
#   make lint    go vet, gofmt, staticcheck
#   make clean   remove build output

SHELL       := bash
.SHELLFLAGS := -eo pipefail -c
GO          ?= go
BIN         := bin/jobsync
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
FUZZTIME    ?= 30s
BENCHTIME   ?= 1s
BENCHCOUNT  ?= 1
TESTFLAGS   ?= -timeout 30m
STATICCHECK_VERSION := v0.8.2
TOOLS       := $(CURDIR)/bin/tools
# sshd (the SSH transport tests) lives in /usr/sbin, which a non-root PATH may lack.
export PATH := $(PATH):/usr/sbin

# Packages (import paths) whose tests hold benchmarks / fuzz targets.
bench_pkgs = $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' . 2>/dev/null | grep -v '^./e2e/controlplane/')))
fuzz_files = $(shell grep -rl --include='*_test.go' '^func Fuzz' . 2>/dev/null | grep -v '^./e2e/controlplane/')

.PHONY: all build test run bench fuzz lint clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/jobsync

# hack/test-deps.sh installs the Debian packages the tests start (git, sshd,
# etcd, chromium, tidy) when one is missing. The e2e tests need kube-apiserver
# and kube-controller-manager; the script
# builds them from the Go module proxy once (about 8 minutes cold) and caches
# them by version, so later runs start at once.
test:
	hack/test-deps.sh
	$(GO) vet ./...
	JOBSYNC_CONTROLPLANE_BIN="$$(hack/build-controlplane.sh)" $(GO) test $(TESTFLAGS) ./...

run: build
	JOBSYNC_BIN=$(BIN) hack/run-example.sh

bench:
	@if [ -z "$(strip $(bench_pkgs))" ]; then echo "no benchmarks found"; exit 1; fi
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) $(bench_pkgs) | tee bench.txt

# Runs each fuzz target on its own (go test -fuzz takes one target at a time).
fuzz:
	@set -e; found=0; \
	for f in $(fuzz_files); do \
	  pkg=./$$(dirname $${f#./}); \
	  for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
	    found=1; echo "== $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done; \
	if [ $$found = 0 ]; then echo "no fuzz targets found"; exit 1; fi

lint: $(TOOLS)/staticcheck
	$(GO) vet ./...
	@out=$$(gofmt -l $$($(GO) list -f '{{.Dir}}' ./...)); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(TOOLS)/staticcheck ./...

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

clean:
	rm -rf bin/ bench.txt
	$(GO) clean -testcache
