# taskorch — the commands a developer needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

node_modules: package-lock.json
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	@touch node_modules

.PHONY: help
help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

.PHONY: dev
dev: ## install, build, start Postgres/NATS if needed, run all-in-one and show a task succeed
	bash scripts/dev.sh

.PHONY: build
build: node_modules ## compile every package (tsc -b)
	npx tsc -b

.PHONY: proto
proto: node_modules ## lint the protos and regenerate libs/proto (buf + ts-proto) and descriptor sets
	npm run --silent proto

.PHONY: proto-check
proto-check: proto ## fail when generated code is stale (regenerates, then diffs)
	@git diff --exit-code --stat -- libs/proto libs/rpc/protos || { echo "generated code is stale: run 'make proto' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- libs/proto libs/rpc/protos)" || { git status --porcelain -- libs/proto libs/rpc/protos; echo "generated code is stale: run 'make proto' and commit"; exit 1; }

.PHONY: lint
lint: node_modules ## buf lint + type-check everything, tests included
	npx buf lint
	npx tsc -b
	npx tsc -p test/e2e

.PHONY: infra
infra: ## make sure Postgres and NATS answer on 127.0.0.1 (starts local ones if not)
	bash scripts/infra.sh up

bench/node_modules: bench/package-lock.json
	npm --prefix bench ci --no-audit --no-fund
	@touch bench/node_modules

.PHONY: test
test: build infra bench/node_modules ## all tests: unit, Postgres/NATS integration, multi-process end-to-end, a bench smoke run
	npx tsc -p test/e2e
	npx vitest run

.PHONY: test-unit
test-unit: build ## only the tests that need no Postgres or NATS
	npx vitest run libs/domain libs/config

.PHONY: bench
bench: build infra ## benchmarks: taskorch against graphile-worker, pg-boss and BullMQ
	npm --prefix bench ci --no-audit --no-fund
	npm --prefix bench run bench -- $(BENCH_ARGS)

.PHONY: docs
docs: build ## regenerate docs/configuration.md from the settings registry
	node scripts/gen-config-docs.mjs > docs/configuration.md

.PHONY: verify-observability
verify-observability: ## against a running cluster: health, a task end to end, the seed's metrics, its trace
	node scripts/verify-observability.mjs

.PHONY: deploy-check
deploy-check: ## promtool checks of alerts and dashboards (needs Debian's prometheus package)
	bash deploy/check.sh

.PHONY: clean
clean: ## remove build output
	npx tsc -b --clean
