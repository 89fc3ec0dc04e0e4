# ITSM Doctor — every target bootstraps .venv itself on a fresh machine (Python 3.11, git, make).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ITSM_DOCTOR_DATA ?= $(abspath ../shared/data)

.PHONY: demo test lint bench validate docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/itsm-doctor demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) itsm-doctor-workspace .pytest_cache .mypy_cache .ruff_cache
