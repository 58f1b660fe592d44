# Developer shortcuts. `make check` is what CI runs (via .ci/run, the README's test command).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: venv check test lint format demo bench generate docs

venv:
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[dev]'

check:
	bash .ci/run

test: venv
	$(PY) -m pytest

lint:
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check stackql_tuning tests benchmarks

format:
	$(VENV)/bin/ruff format stackql_tuning tests benchmarks && $(VENV)/bin/ruff check --fix .

demo:
	$(VENV)/bin/stackql-tuning --sandbox exec -f examples/inventory.iql

bench:
	$(PY) -m benchmarks

generate:
	$(VENV)/bin/stackql-tuning registry generate && $(VENV)/bin/stackql-tuning registry docs
