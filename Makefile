# Switchboard: `make run` serves the demo, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= config.example.yaml

.PHONY: run test lint typecheck unit bench check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/hub run --config $(CONFIG)

check: $(STAMP)
	$(BIN)/hub check --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy hub connectors

test: lint typecheck
	$(BIN)/hub check --config $(CONFIG)
	$(BIN)/hub test-mappings --config $(CONFIG)
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit tests/contract -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.codecs
	$(BIN)/python -m benchmarks.xml_stream
	$(BIN)/python -m benchmarks.limits
	$(BIN)/python -m benchmarks.delivery
	$(BIN)/python -m benchmarks.mapping

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
