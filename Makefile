# Batchline: the two commands a newcomer needs are `make demo` and `make test`.
#
# Everything runs with the project's own virtual environment (.venv), created on first use from
# the machine's python3 (3.11 or newer). Variables: PORT, HOST (demo/serve address), PYTHON,
# PYTEST_ARGS (extra pytest arguments, e.g. make check-pytest PYTEST_ARGS=tests/demo).

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# Installation stamps: reinstall when pyproject.toml changes (the package itself is editable).
RUNTIME := $(VENV)/.installed-runtime
TESTKIT := $(VENV)/.installed-test
LINT_PATHS := src tests $(wildcard bench)

.PHONY: help demo serve test lint bench matrix clean \
	check-ruff check-mypy check-layers check-migrations check-openapi check-datadict check-pytest

help:
	@echo "make demo    create .venv, install, load the demo plant and serve it on http://$(HOST):$(PORT)/"
	@echo "make serve   migrate the configured database and serve it (gunicorn) on $(HOST):$(PORT)"
	@echo "make test    lint, types, layers, migrations and API schema checks, then the whole test suite"
	@echo "make lint    ruff, mypy and the import-layer contract only"
	@echo "make bench   run every benchmark in bench/ (about 25 minutes; see bench/README.md)"
	@echo "make matrix  copy the last run's traceability matrix to docs/requirements-traceability.md"
	@echo "make clean   remove .venv and caches (var/, which holds the database and keys, is kept)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(TESTKIT): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]'
	@touch $@ $(RUNTIME)

demo: $(RUNTIME)
	$(BIN)/batchline demo --bind $(HOST):$(PORT) $(DEMO_ARGS)

serve: $(RUNTIME)
	$(BIN)/batchline migrate --no-input
	$(BIN)/batchline serve --bind $(HOST):$(PORT)

# Each check is its own target; `make -k` runs all of them even when one fails, so one run shows
# every problem, and the exit status is non-zero if any failed.
LINT_CHECKS := check-ruff check-mypy check-layers
TEST_CHECKS := $(LINT_CHECKS) check-migrations check-openapi check-datadict check-pytest

lint: $(TESTKIT)
	@$(MAKE) --no-print-directory -k $(LINT_CHECKS)

test: $(TESTKIT)
	@$(MAKE) --no-print-directory -k $(TEST_CHECKS)

check-ruff:
	$(BIN)/ruff check $(LINT_PATHS)

check-mypy:
	$(BIN)/mypy

check-layers:
	$(BIN)/lint-imports

check-migrations:
	$(BIN)/batchline makemigrations --check --dry-run

check-openapi:
	$(BIN)/batchline openapi --check

# The published message schemas and the data dictionary generated from them match the code.
check-datadict:
	$(BIN)/batchline schemas --check
	$(BIN)/batchline datadict --check

# pytest's exit code is kept in var/pytest-exit-code for .ci/run; exit code 5 (no test collected)
# is a failure, never a pass.
check-pytest:
	@mkdir -p var
	@rm -f var/pytest-exit-code
	@status=0; $(BIN)/pytest -n 2 --traceability=var/traceability.md $(PYTEST_ARGS) || status=$$?; \
	echo $$status > var/pytest-exit-code; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests: that is a failure"; fi; \
	exit $$status

# Every benchmark, one after the other (about 25 minutes); each script's --help shows a quicker look.
bench: $(TESTKIT)
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/warehouse.py
	$(BIN)/python bench/telemetry.py

matrix:
	@test -f var/traceability.md || { echo "no var/traceability.md yet: run make test first"; exit 1; }
	cp var/traceability.md docs/requirements-traceability.md
	@echo "docs/requirements-traceability.md updated"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist src/*.egg-info var/static
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
