# The two commands a new user needs (see README.md):
#   make demo   set everything up and run the main example pipeline end to end
#   make test   run the whole test suite (sets up the environment first if missing)
# Extra targets for developers: test-fast (no real pipelines), lint, format,
#   test-latest  the whole suite against TFX 1.21 / Python 3.13 (scripts/test_latest.sh)
#   check-resolve  time an unconstrained pip resolve of our wheel (scripts/check_resolve.sh)
.PHONY: demo test test-fast test-latest check-resolve lint format setup
SHELL := /bin/bash
PY := .venv/bin/python

setup:
	@scripts/bootstrap.sh

demo: setup
	@$(PY) examples/penguin/pipeline.py

test:
	@WITH_BROWSER=1 scripts/bootstrap.sh
	@$(PY) -m pytest $(PYTEST_ARGS)

test-latest:
	@scripts/test_latest.sh

check-resolve:
	@scripts/check_resolve.sh

test-fast: setup
	@$(PY) -m pytest -m "not e2e and not mlflow" $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check src tests examples benchmarks && .venv/bin/ruff format --check src tests examples benchmarks

format: setup
	@.venv/bin/ruff format src tests examples benchmarks && .venv/bin/ruff check --fix src tests examples benchmarks
