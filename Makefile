# gridflow — the two commands a newcomer needs are `make demo` and `make test`.
# Each creates .venv when missing, installs the project, fetches the Kafka jars and starts what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: install test test-slow unit check format services services-down demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The test fixtures start (and stop) a broker and clickhouse-server of their own on free ports.
# scripts/provision.sh installs the system packages the tiers need when missing (as root), else says which.
# `make test` runs every tier (unit, integration, e2e) but the long fault tests, marked slow, which
# `make test-slow` runs; CI (.ci/run) runs both.
test: $(STAMP)
	bash scripts/provision.sh
	$(BIN)/gridflow services fetch
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP)
	bash scripts/provision.sh
	$(BIN)/gridflow services fetch
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy tests bench
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

services: $(STAMP)
	$(BIN)/gridflow services up

services-down: $(STAMP)
	$(BIN)/gridflow services down

# A simulated day end to end (about two minutes): services, topics, schema, simulator, worker, sink and the
# command-centre feed, a live display, then the KPIs and an HTML report. DEMO_ARGS passes options through.
demo: $(STAMP)
	$(BIN)/gridflow demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
