# One command runs the service, one runs the tests. Both create the venv when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench validate clean

$(VENV)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(PY) -m bot validate-config
	$(PY) -m bot migrate
	$(PY) -m bot serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m ruff check bot tests
	$(PY) -m ruff format --check bot tests
	$(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check bot tests
	$(PY) -m ruff format --check bot tests

format: $(VENV)/.installed-dev
	$(PY) -m ruff format bot tests
	$(PY) -m ruff check --fix bot tests

# Inbound webhook benchmark (figures, not a test): see docs/benchmarks.md. Installs wrk if missing.
bench: $(VENV)/.installed-dev
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/escalation_latency.py
	$(PY) bench/detection.py

validate: $(VENV)/.installed-run
	$(PY) -m bot validate-config

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
