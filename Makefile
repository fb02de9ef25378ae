# One command runs the service, one runs the tests. Both create the venv when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test fuzz lint format bench validate clean

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
	$(PY) -m ruff check bot tools tests
	$(PY) -m ruff format --check bot tools tests
	$(PY) -m mypy
	$(PY) -m pytest

# The webhook fuzz tests (tests/fuzz) at length: FUZZ_BODIES bodies per webhook instead of
# the suite's 10,000, new inputs on every run, failures shrunk. See docs/security.md.
FUZZ_BODIES ?= 100000
fuzz: $(VENV)/.installed-dev
	FUZZ_BODIES=$(FUZZ_BODIES) FUZZ_RANDOM=1 $(PY) -m pytest tests/fuzz -p no:cacheprovider

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check bot tools tests
	$(PY) -m ruff format --check bot tools tests
	$(PY) -m mypy

format: $(VENV)/.installed-dev
	$(PY) -m ruff format bot tools tests
	$(PY) -m ruff check --fix bot tools tests

# Inbound webhook benchmark (figures, not a test): see docs/benchmarks.md. Installs wrk if missing.
bench: $(VENV)/.installed-dev
	$(PY) bench/run.py $(BENCH_ARGS)
	$(PY) bench/escalation_latency.py
	$(PY) bench/detection.py

validate: $(VENV)/.installed-run
	$(PY) -m bot validate-config

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
