# The two commands a newcomer needs (see README.md):
#   make run   - set up, then run both daemons and the simulated rig (Ctrl-C stops)
#   make test  - set up, then the whole default test suite, lint and type checks
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test test-slow setup lint typecheck bench clean

setup: $(STAMP)

deps/.apt-ok: deps/apt/*.txt scripts/ensure-debian-packages
	./scripts/ensure-debian-packages
	@touch $@

$(STAMP): deps/.apt-ok setup.cfg pyproject.toml $(wildcard setup.py)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

run: setup
	$(BIN)/python -m appliance.demo

lint: setup
	$(BIN)/ruff check $(wildcard appliance drivers hil tests bench)

typecheck: setup
	$(BIN)/mypy appliance drivers hil

test: setup lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# long real-time soaks (a minute of 240 media channels with zero late ticks) and the
# long fuzzing budget (100x the default examples); they need an otherwise idle machine,
# so they are not part of `make test` (which runs the fuzzers on their small budget)
test-slow: setup
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -m "slow or fuzz" $(PYTEST_ARGS)

bench: setup
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) deps/.apt-ok build *.egg-info .mypy_cache .pytest_cache .ruff_cache
