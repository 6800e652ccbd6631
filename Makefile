# apigw — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
TOOLS_MOD := deploy/tools/go.mod
TOOLS_BIN := $(CURDIR)/bin/tools
PKGS := ./...
# Nested modules tested with the main one: deploy/ holds the deployment
# layouts' checks, which need the Kubernetes API types (kept out of the
# product's go.mod).
SUBMODS := deploy
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
test: ## Run every test, of the main module and of deploy/ (needs redis-server on PATH for the Redis tests).
	$(GO) vet $(PKGS)
	$(GO) test $(TEST_FLAGS) $(PKGS)
	@set -e; for m in $(SUBMODS); do (cd $$m && $(GO) vet ./... && $(GO) test $(TEST_FLAGS) ./...); done

.PHONY: test-race
test-race: ## Run every test with the race detector.
	$(GO) test -race $(TEST_FLAGS) $(PKGS)
	@set -e; for m in $(SUBMODS); do (cd $$m && $(GO) test -race $(TEST_FLAGS) ./...); done

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (15s) each, from its committed seed corpus.
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
	  for n in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | cut -c6-); do \
	    echo "== $$n ($$(dirname $$f), $(FUZZTIME))"; \
	    $(GO) test ./$$(dirname $$f) -run '^$$' -fuzz "^$$n$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS); \
	  done; \
	done

.PHONY: ci
ci: test test-race fuzz lint check-generate check-console ## Everything .ci/run checks.

.PHONY: testdata
testdata: ## Refresh the xDS golden files (review the diff before committing).
	$(GO) test ./xds/translate -run TestGolden -update

.PHONY: bench-xds
bench-xds: ## Run the xDS benchmarks (translation; the fleet table against an apigw process) and print the ratios to the targets.
	$(GO) test ./xds/bench -run '^$$' -bench Translate10k -benchtime 20x
	APIGW_BENCH_FLEET=$${APIGW_BENCH_FLEET:-1000} $(GO) test ./xds/bench -run '^$$' -bench Fleet -benchtime 1x -timeout 90m

.PHONY: bench-scale
bench-scale: ## Run every scale benchmark (fleet, admin writes, RLS vs the reference, ext_authz) and print one table against the targets.
	$(GO) run ./cmd/scalebench -fleet $${APIGW_BENCH_FLEET:-1000}

.PHONY: bench
bench: ## Run the benchmarks (6 counts) into bench.out; compare with benchstat.
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 $(PKGS) | tee bench.out

.PHONY: tools
tools: $(TOOLS_BIN)/buf $(TOOLS_BIN)/protoc-gen-go $(TOOLS_BIN)/protoc-gen-go-grpc $(TOOLS_BIN)/staticcheck ## Build the pinned code generators and linter into bin/tools.

$(TOOLS_BIN)/%: $(TOOLS_MOD)
	@mkdir -p $(TOOLS_BIN)
	$(GO) build -modfile=$(TOOLS_MOD) -o $(TOOLS_BIN)/ $(shell $(GO) list -modfile=$(TOOLS_MOD) tool | grep '/$*$$')

# The web console (console/web): npm packages pinned by package-lock.json.
CONSOLE_WEB := console/web
CONSOLE_DEPS := $(CONSOLE_WEB)/node_modules/.package-lock.json
GENERATED := proto/ $(CONSOLE_WEB)/src/gen/

$(CONSOLE_DEPS): $(CONSOLE_WEB)/package.json $(CONSOLE_WEB)/package-lock.json
	cd $(CONSOLE_WEB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: console-deps
console-deps: $(CONSOLE_DEPS) ## Install the console's npm packages from the lockfile (npm ci).

.PHONY: generate
generate: $(TOOLS_BIN)/buf $(TOOLS_BIN)/protoc-gen-go $(TOOLS_BIN)/protoc-gen-go-grpc $(CONSOLE_DEPS) ## Regenerate the protobuf and gRPC code and the console's TypeScript client (offline, pinned tools).
	$(TOOLS_BIN)/buf lint
	$(TOOLS_BIN)/buf generate
	$(TOOLS_BIN)/buf generate --template $(CONSOLE_WEB)/buf.gen.yaml

.PHONY: check-generate
check-generate: generate ## Fail if the committed generated code is not current.
	@git diff --exit-code -- $(GENERATED) || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { git status --porcelain -- $(GENERATED); echo "untracked generated files: run make generate and commit"; exit 1; }

.PHONY: console
console: $(CONSOLE_DEPS) ## Build the web console into console/dist (embedded in apigw; commit the result).
	cd $(CONSOLE_WEB) && node build.mjs

.PHONY: check-console
check-console: $(CONSOLE_DEPS) ## Type-check and unit-test the console, and fail if console/dist is not the build of the sources.
	cd $(CONSOLE_WEB) && npx --no-install tsc --noEmit -p .
	cd $(CONSOLE_WEB) && node build.mjs --tests && node --test .test-out/
	$(MAKE) console
	@git diff --quiet -- console/dist || { git diff --stat -- console/dist; echo "console/dist is stale: run make console and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- console/dist)" || { git status --porcelain -- console/dist; echo "untracked console files: run make console and commit"; exit 1; }

.PHONY: console-screenshots
console-screenshots: $(CONSOLE_DEPS) ## Run the console's browser test (headless Debian chromium, also part of make test) and save its screenshots in docs/console/.
	APIGW_CONSOLE_SCREENSHOTS=$(CURDIR)/docs/console $(GO) test -count=1 -run TestConsoleInBrowser -v ./console/e2e/

.PHONY: lint
lint: $(TOOLS_BIN)/buf $(TOOLS_BIN)/staticcheck check-refs ## gofmt, go vet, staticcheck (pinned in deploy/tools), buf lint and check-refs.
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); test -z "$$out" || { echo "gofmt needed: $$out"; exit 1; }
	$(GO) vet $(PKGS)
	$(TOOLS_BIN)/staticcheck $(PKGS)
	@set -e; for m in $(SUBMODS); do (cd $$m && $(GO) vet ./... && $(TOOLS_BIN)/staticcheck ./...); done
	$(TOOLS_BIN)/buf lint

# Files whose comments and text must be readable without anything outside
# the repository.
REF_FILES := '*.go' '*.proto' '*.md' '*.yaml' '*.yml'

.PHONY: check-refs
check-refs: ## Fail if code or docs cite a section sign, the external spec or an issue number, or a missing docs/apig-semantics.md section.
	@out=$$(git grep --untracked -nIE '§|shared/spec|[Ii]ssues? #?[0-9]' -- $(REF_FILES)); \
	test -z "$$out" || { echo "$$out"; echo 'references must be self-contained: cite docs/apig-semantics.md#<section> (or write the rule out) instead of a spec section or an issue number'; exit 1; }
	@have=$$(awk '/^```/ {f = !f; next} !f && /^#+ / {sub(/^#+ +/, ""); print}' docs/apig-semantics.md | \
	  tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'); \
	bad=0; for a in $$(git grep --untracked -hoE 'apig-semantics\.md#[A-Za-z0-9_-]+' -- $(REF_FILES) | sed 's/.*#//' | sort -u); do \
	  grep -qxF -- "$$a" <<<"$$have" || { echo "docs/apig-semantics.md has no section #$$a"; bad=1; }; \
	done; exit $$bad

.PHONY: tidy-check
tidy-check: ## Fail if go mod tidy would change go.mod or go.sum (main module and deploy/).
	$(GO) mod tidy && git diff --exit-code go.mod go.sum
	@set -e; for m in $(SUBMODS); do (cd $$m && $(GO) mod tidy) && git diff --exit-code $$m/go.mod $$m/go.sum; done
