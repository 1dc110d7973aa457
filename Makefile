# Local development and CI entry points. Infrastructure (PostgreSQL, Kafka, mail sink) runs
# without Docker: see deploy/local/infra.sh. Its state and generated secrets live in
# $$CET_VAR (default .local/); `. .local/env` gives the variables the services and tests read.
#   make test ARGS='-k enrolment -x'     runs a subset

SHELL := /bin/bash
.DEFAULT_GOAL := help
# What deploy/local/bootstrap.sh installs (a pinned uv, tools built from Go modules) is found here.
CET_TOOLS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cet-suite/bin
export CET_TOOLS
export PATH := $(HOME)/.local/bin:$(CET_TOOLS):/usr/local/go/bin:$(PATH)
# sync must finish before infra-up: the mail sink runs on the project's venv (aiosmtpd)
.NOTPARALLEL:

.PHONY: help bootstrap bootstrap-test sync infra-up infra-down infra-status infra-reset test e2e up down lint

help:
	@echo "make bootstrap | sync | lint | infra-up | infra-down | infra-status | infra-reset | test [ARGS=...] | e2e [ARGS=...] | up | down"

# Installs what is missing on this machine (Debian packages, uv, Go tools); quick when all is there.
bootstrap:
	@deploy/local/bootstrap.sh up

bootstrap-test:
	@deploy/local/bootstrap.sh test

sync:
	@if [ -f uv.lock ]; then uv sync --all-packages --frozen; else uv sync --all-packages; fi

# ruff (lint, then formatting) over the repo and mypy strict on shared/ and every domain/
# (pyproject.toml configures all three); CI runs it before the tests.
lint: sync
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .
	uv run --frozen mypy

infra-up:
	deploy/local/infra.sh up

infra-down:
	deploy/local/infra.sh down

infra-status:
	@deploy/local/infra.sh status

infra-reset:
	deploy/local/infra.sh reset

test: bootstrap-test sync infra-up
	deploy/local/test.sh $(ARGS)

# The cross-service journey and failure drills only (tests/e2e: every service as its own
# processes behind a private gateway, fresh databases, its own Kafka broker). `make test` runs them too.
e2e: bootstrap-test sync infra-up
	deploy/local/test.sh tests/e2e $(ARGS)

# The whole suite: infrastructure, migrations, every service, the gateway on
# http://127.0.0.1:8080, the demo data; prints the addresses and demo accounts.
up: bootstrap sync
	deploy/local/suite.sh up

down:
	deploy/local/suite.sh down

# Fault drills of issue 10 (their own PostgreSQL cluster, Toxiproxy, SIGSTOP) and the relay lease,
# as CI runs them; durations: CET_E2E_PG_OUTAGE (30 s), CET_E2E_FREEZE (20 s).
.PHONY: drills
drills: bootstrap-test sync infra-up
	deploy/local/test.sh tests/e2e/test_fault_drills.py tests/e2e/test_consumer_drills.py tests/e2e/test_deadlock_stress_drill.py shared/tests/test_relay_lease.py shared/tests/test_consumer_failure_classes.py shared/tests/test_http_under_faults.py -s $(ARGS)

# The sign-up peak benchmark (issue 11; bench/README.md): against the suite `make up` runs, through
# its gateway; builds bench/loadgen (Go) into $(CET_TOOLS). Figures, not a test. ARGS=--quick to try it.
.PHONY: bench-peak
bench-peak: sync
	uv run --frozen python bench/peak.py $(ARGS)
