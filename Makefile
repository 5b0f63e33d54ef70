# Huanghe: two commands. `make run` starts the platform; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages the test suite needs (real PostgreSQL, headless Chromium, CJK fonts, Slurm, Prometheus).
TEST_DEBS := bubblewrap postgresql chromium fonts-noto-cjk poppler-utils munge slurmctld slurmd slurm-client slurmrestd slurm-wlm-jwt-plugin libpango-1.0-0 libpangoft2-1.0-0 prometheus

.PHONY: install run test test-deps lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## create .venv and install the package with its dependencies (idempotent)
	@bash scripts/vendor-web.sh
	@bash scripts/install-test-debs.sh fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0  # reports: CJK fonts, WeasyPrint

run: install ## start the platform on SQLite with the bundled network, API and console on http://$(HOST):$(PORT)
	HUANGHE_DEV_MODE=$${HUANGHE_DEV_MODE:-1} HUANGHE_SCHEDULER_POLICY=$${HUANGHE_SCHEDULER_POLICY:-huanghe} $(BIN)/huanghe up --host $(HOST) --port $(PORT) --network shandong

test-deps: ## install the Debian packages the tests need, when missing
	@bash scripts/install-test-debs.sh $(TEST_DEBS)

lint: install
	$(BIN)/ruff check huanghe tests bench
	$(BIN)/ruff format --check huanghe tests bench
	$(BIN)/lint-imports  # the layer rules of CONTRIBUTING.md (contracts in pyproject.toml)

typecheck: install
	$(BIN)/mypy huanghe tests

pytest: install
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=30

test: install test-deps lint typecheck pytest ## the whole suite

bench: install ## the quick speed benchmarks (others, and their numbers: docs/benchmarks.md)
	$(BIN)/python bench/bench_sim.py --repeat 3
	$(BIN)/python bench/bench_scheduler_scale.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache
