# apigw — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
TOOLS_MOD := deploy/tools/go.mod
TOOLS_BIN := $(CURDIR)/bin/tools
PKGS := ./...
TEST_FLAGS ?= -count=1 -timeout 15m
FUZZTIME ?= 15s
# Minimizing each new interesting input of a large seed can take longer
# than FUZZTIME itself; keep the time for fuzzing.
FUZZFLAGS ?= -fuzzminimizetime 2s

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build apigw and apigctl into bin/.
	$(GO) build -o bin/ ./cmd/...

.PHONY: run
run: ## Run apigw with the embedded etcd in ./data.
	$(GO) run ./cmd/apigw

.PHONY: test
test: ## Run every test (needs redis-server on PATH for the Redis tests).
	$(GO) vet $(PKGS)
	$(GO) test $(TEST_FLAGS) $(PKGS)

.PHONY: test-race
test-race: ## Run every test with the race detector.
	$(GO) test -race $(TEST_FLAGS) $(PKGS)

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (15s) each, from its committed seed corpus.
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  for n in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -c6-); do \
	    echo "== $$n ($$(dirname $$f), $(FUZZTIME))"; \
	    $(GO) test ./$$(dirname $$f) -run '^$$' -fuzz "^$$n$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS); \
	  done; \
	done

.PHONY: ci
ci: test test-race fuzz lint check-generate ## Everything .ci/run checks.

.PHONY: testdata
testdata: ## Refresh the xDS golden files (review the diff before committing).
	$(GO) test ./xds/translate -run TestGolden -update

.PHONY: bench-xds
bench-xds: ## Run the xDS benchmarks (translation; the fleet table against an apigw process) and print the ratios to the targets.
	$(GO) test ./xds/bench -run '^$$' -bench Translate10k -benchtime 20x
	APIGW_BENCH_FLEET=$${APIGW_BENCH_FLEET:-1000} $(GO) test ./xds/bench -run '^$$' -bench Fleet -benchtime 1x -timeout 90m

.PHONY: bench
bench: ## Run the benchmarks (6 counts) into bench.out; compare with benchstat.
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 $(PKGS) | tee bench.out

.PHONY: tools
tools: $(TOOLS_BIN)/buf $(TOOLS_BIN)/protoc-gen-go $(TOOLS_BIN)/protoc-gen-go-grpc $(TOOLS_BIN)/staticcheck ## Build the pinned code generators and linter into bin/tools.

$(TOOLS_BIN)/%: $(TOOLS_MOD)
	@mkdir -p $(TOOLS_BIN)
	$(GO) build -modfile=$(TOOLS_MOD) -o $(TOOLS_BIN)/ $(shell $(GO) list -modfile=$(TOOLS_MOD) tool | grep '/$*$$')

.PHONY: generate
generate: $(TOOLS_BIN)/buf $(TOOLS_BIN)/protoc-gen-go $(TOOLS_BIN)/protoc-gen-go-grpc ## Regenerate the protobuf and gRPC code (offline, pinned tools).
	$(TOOLS_BIN)/buf lint
	$(TOOLS_BIN)/buf generate

.PHONY: check-generate
check-generate: generate ## Fail if the committed generated code is not current.
	@git diff --exit-code -- proto/ || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- proto/)" || { git status --porcelain -- proto/; echo "untracked generated files: run make generate and commit"; exit 1; }

.PHONY: lint
lint: $(TOOLS_BIN)/buf $(TOOLS_BIN)/staticcheck ## gofmt, go vet, staticcheck (pinned in deploy/tools) and buf lint.
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); test -z "$$out" || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) vet $(PKGS)
	$(TOOLS_BIN)/staticcheck $(PKGS)
	$(TOOLS_BIN)/buf lint

.PHONY: tidy-check
tidy-check: ## Fail if go mod tidy would change go.mod or go.sum.
	$(GO) mod tidy && git diff --exit-code go.mod go.sum
