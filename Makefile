# paperfeed: short verbs for the usual jobs. `make run` serves the hub, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test fast-test lint fix bench bench-ingest bench-embed bench-keyword bench-vectors bench-quality bench-search docs install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $(STAMP)

install: $(STAMP)

## run: create the store, load the bundled sample (first time only), serve http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/paperfeed init
	$(BIN)/paperfeed serve

## test: lint, type-check, and the whole test suite (slow tests included)
test: $(STAMP) lint
	$(BIN)/pytest -m "slow or not slow"

## fast-test: the suite without the slow tests
fast-test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/cog --check README.md docs/cli.md

fix: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## docs: regenerate the CLI reference from --help
docs: $(STAMP)
	$(BIN)/cog -r README.md docs/cli.md

bench: bench-ingest bench-embed bench-keyword bench-quality bench-search bench-vectors

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py

bench-embed: $(STAMP)
	$(BIN)/python bench/embed.py

bench-keyword: $(STAMP)
	$(BIN)/python bench/keyword_index.py

bench-vectors: $(STAMP)
	$(BIN)/python bench/vectors.py

bench-quality: $(STAMP)
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

bench-search: $(STAMP)
	$(BIN)/python bench/search.py
