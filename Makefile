# WikiStream — developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: run test lint typecheck unit bench docs spark-jars clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $@ $(VENV)/.installed

## run: set up and run the main job on the live Wikipedia stream
run: $(VENV)/.installed
	$(BIN)/wikistream run $(ARGS)

## test: set up and run the whole suite (lint, types, tests)
test: $(VENV)/.installed-dev lint typecheck unit

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench docs/assemble.py
	$(BIN)/ruff format --check src tests bench docs/assemble.py
	$(BIN)/python docs/assemble.py --check

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: benchmarks; prints a table, writes bench/results/*.json
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench $(ARGS)

## docs: rebuild docs/runbook.md and docs/differences.md from their sections
docs:
	$(PYTHON) docs/assemble.py

## spark-jars: build the Iceberg runtime jars for Spark (cached in ~/.cache/wikistream/jars)
spark-jars: $(VENV)/.installed-dev
	$(BIN)/python -m wikistream.spark.jars

clean-venv:
	rm -rf $(VENV)
