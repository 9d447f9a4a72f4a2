# Switchboard: `make run` serves the demo, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CONFIG ?= config.example.yaml
SOAK_N ?= 10000

.PHONY: run test soak lint typecheck unit bench check clean cluster

# The distribution used to be called switchboard (another project's name on PyPI): an install
# under that name is dropped, so only switchboard-hub provides hub's modules and entry points.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip uninstall --quiet --yes switchboard 2>/dev/null || true
	rm -rf switchboard.egg-info
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/hub run --config $(CONFIG)

# deploy/compose.yaml's hub services (API + 2 workers) as local processes on the local
# PostgreSQL, plus Prometheus with the alert rules if installed; Ctrl-C stops them.
cluster: $(STAMP)
	$(BIN)/python -m deploy.cluster

check: $(STAMP)
	$(BIN)/hub check --config $(CONFIG)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy hub connectors

# Two pytest workers: most integration tests wait on hub processes, peers and databases, so
# two of them share the 2 cores well; a module's tests stay on one worker (its fixtures once).
PYTEST_WORKERS ?= 2

test: lint typecheck
	$(BIN)/hub check --config $(CONFIG)
	$(BIN)/hub test-mappings --config $(CONFIG)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --durations=15

# The conservation tests under crashes with 10,000 messages (`make test` runs them with 2,000).
soak: $(STAMP)
	HUB_CONSERVATION_N=$(SOAK_N) $(BIN)/python -m pytest -m soak -v

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit tests/contract -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks
	$(BIN)/python -m benchmarks.codecs
	$(BIN)/python -m benchmarks.x12
	$(BIN)/python -m benchmarks.xml_stream
	$(BIN)/python -m benchmarks.xml_rules
	$(BIN)/python -m benchmarks.limits
	$(BIN)/python -m benchmarks.delivery
	$(BIN)/python -m benchmarks.http_stack
	$(BIN)/python -m benchmarks.claim
	$(BIN)/python -m benchmarks.memory
	-$(BIN)/python -m benchmarks.mapping
	$(BIN)/python -m benchmarks.tracing
	$(BIN)/python -m benchmarks.transports
	$(BIN)/python -m benchmarks.as2
	-$(BIN)/python -m benchmarks.worker_cpu  # exits 1 when its stages miss 25 ms
	$(BIN)/python -m benchmarks.worker_turns
	$(BIN)/python -m benchmarks.worker_turns --lines 1000 --messages 40
	-$(BIN)/python -m benchmarks.mapping_language

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache *.egg-info
