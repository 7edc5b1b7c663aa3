# seatshift: `make demo` and `make test` are the two promises; each bootstraps .venv from the lock.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
UV_VERSION := 0.13.9
CHROMIUM := /usr/bin/chromium

export SEATSHIFT_LANDING ?= data/landing
export SEATSHIFT_WAREHOUSE ?= data/seatshift.duckdb
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
export UV_COMPILE_BYTECODE := 1
# Without precompiled bytecode `import great_expectations` costs seconds each time (measured on this stack).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: help demo test test-faults test-spark test-scale java refresh dashboard docs dagster lint fmt contract bench seeds chromium clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade >/dev/null
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --locked --inexact --python $(BIN)/python
	@touch $@

demo: $(STAMP) ## generate the demo exports (if none), refresh, serve the dashboard
	@if [ -z "$$(ls -A $(SEATSHIFT_LANDING) 2>/dev/null)" ]; then \
		$(BIN)/seatshift generate --out $(SEATSHIFT_LANDING); fi
	$(BIN)/seatshift refresh
	@echo
	@echo "  landing folder : $(SEATSHIFT_LANDING)"
	@echo "  warehouse      : $(SEATSHIFT_WAREHOUSE) (DuckDB, open it read-only)"
	@echo "  dashboard      : http://127.0.0.1:8501 (Ctrl-C stops it)"
	@echo "  Dagster UI     : run 'make dagster' in another terminal, then http://127.0.0.1:3000"
	@echo
	$(BIN)/seatshift dashboard --port 8501

# Two workers (pytest-xdist): a refresh keeps one core busy and the machine has two. A file's tests
# stay on one worker (their module fixtures are built once); session warehouses are shared.
PYTEST_WORKERS ?= 2

test: $(STAMP) chromium ## set up and run the test suite (all but the faults, scale and Spark suites)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Refreshes under faults and across days (`pytest -m faults`, left out of `make test`: each test runs
# two to five whole refreshes, about 17 minutes on two workers): kill -9 at every stage, a full disk (as
# root), bad and hostile files, a failed build, the daemon's queue, a new day with late events.
test-faults: $(STAMP) ## refreshes under faults and across days: kill -9, a full disk, bad files, the daemon, a new day
	$(BIN)/pytest -m faults -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder tests

# The Spark build of the sample against the DuckDB build (tests/warehouse/test_spark.py): the
# `spark` extra (dbt-spark, pyspark: about 500 MB, which `make test` never installs) and Java.
SPARK_STAMP := $(VENV)/.installed-spark-extra
JAVA := /usr/bin/java

$(SPARK_STAMP): $(STAMP)
	$(BIN)/uv sync --locked --inexact --extra spark --python $(BIN)/python
	@touch $@

# Two workers, whole files each: the first runs the whole-project Spark refresh (test_spark.py),
# the second meanwhile the Thrift server's build (test_spark_thrift.py), then the dashboard on the
# Spark refresh's warehouse once it is there (a session fixture the workers share).
test-spark: $(SPARK_STAMP) java chromium ## the Spark tests: every mart equal to DuckDB's, a refresh --engine spark, the dashboard on it
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/pytest -m spark -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		tests/warehouse/test_spark.py tests/warehouse/test_spark_thrift.py tests/dashboards/test_spark_build.py

# Checks that need a generated company of 1,000+ accounts (a generate and a refresh of a few
# minutes), against independent computations, and its next day built incrementally against a
# full rebuild; and a small company of extreme growth refreshed whole. Two workers: one builds the
# 1,000-account company (shared by the files that read it), the other meanwhile the planted
# pilot's companies and the extreme one.
test-scale: $(STAMP) ## the checks on a generated 1,000-account company
	$(BIN)/pytest -m scale -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder tests

java: ## Debian's Java runtime for Spark (installed with apt when root)
	@if [ ! -x $(JAVA) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's Java runtime for Spark"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless) >/dev/null \
				|| { echo "apt-get install default-jre-headless failed"; exit 1; }; \
		else \
			echo "Spark needs Java 17 or newer: run 'sudo apt-get install default-jre-headless', then 'make test-spark'."; \
			exit 1; \
		fi; \
	fi

refresh: $(STAMP) ## load new files, validate, build, publish
	$(BIN)/seatshift refresh

dashboard: $(STAMP) ## serve the dashboard on 127.0.0.1:8501
	$(BIN)/seatshift dashboard --port 8501

docs: $(STAMP) ## the dbt docs and the GX Data Docs of the warehouse on 127.0.0.1:8080
	$(BIN)/seatshift docs --port 8080

dagster: $(STAMP) ## the Dagster UI and daemon (schedule, sensor, run queue) on 127.0.0.1:3000
	$(BIN)/seatshift dagster --port 3000

lint: $(STAMP) ## ruff and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint models

contract: $(STAMP) ## render the dbt sources (and docs/exports.md) from the export contract
	$(BIN)/python -m orchestration.lib.contract.render

fmt: $(STAMP) ## format Python
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench BENCH_ARGS='--scale small'` for a run of minutes; the default, 10M and 100M events,
# takes about an hour.
# `python -m bench.bench_whatif` and `python -m bench.bench_reprojection` time the pages' re-rating and re-projection
# on a published warehouse (`--warehouse`, e.g. `make demo`'s); `python -m bench.bench_projection` the
# projection's share of a refresh.
BENCH_ARGS ?=
bench: $(STAMP) ## the bench at 10M and 100M events: refresh stages, lower bound, peers, incremental, dashboard
	$(BIN)/python -m bench $(BENCH_ARGS)

seeds: $(STAMP) ## regenerate the committed sample exports in seeds/
	$(BIN)/python -c "from orchestration.lib.generator import write_sample; from orchestration.lib.settings import SEEDS_DIR; write_sample(SEEDS_DIR)"

chromium: ## Debian's chromium for the browser tests (installed with apt when root)
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium for the browser tests"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
				|| { echo "apt-get install chromium failed"; exit 1; }; \
		else \
			echo "The browser tests need Chromium: run 'sudo apt-get install chromium', then 'make test'."; \
			exit 1; \
		fi; \
	fi

clean: ## remove the venv and local data
	rm -rf $(VENV) data dbt_project/target dbt_project/logs
