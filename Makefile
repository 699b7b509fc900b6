# paperfeed: short verbs for the usual jobs. `make run` serves the hub, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# KaTeX renders math in titles and abstracts; it comes from the npm registry (pinned, checked).
KATEX_VERSION := 0.16.22
KATEX_SHA512 := sha512-XCHRdUw4lf3SKBaJe4EvgqIuWwkPSo9XoeO8GjQW94Bp7TWv9hNhzZjZ+OH9yf1UmLygb7DIT5GSFQiyt16zYg==
KATEX := src/paperfeed/web/static/katex/VERSION

.PHONY: run test chromium postgresql fast-test lint fix bench bench-ingest bench-embed bench-keyword bench-vectors bench-quality bench-search bench-web bench-digest docs install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $(STAMP)

$(KATEX): Makefile scripts/install-katex.sh
	scripts/install-katex.sh $(KATEX_VERSION) $(KATEX_SHA512) src/paperfeed/web/static/katex

# The browser tests drive Debian's Chromium (no browser download); as root or with sudo.
chromium:
	@command -v chromium >/dev/null || sudo -n sh -c 'apt-get update && apt-get install -y chromium' \
		|| (apt-get update && apt-get install -y chromium)

# tests/pg (and the digest ledger's PostgreSQL test) start Debian's PostgreSQL server binaries
# themselves, on a unix socket in a temporary folder (tests/pg/server.py); as root or with sudo.
postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || sudo -n sh -c 'apt-get update \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql' \
		|| (apt-get update \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)

install: $(STAMP) $(KATEX)

## run: create the store, load the bundled sample (first time only), serve http://127.0.0.1:8000
run: $(STAMP) $(KATEX)
	$(BIN)/paperfeed init
	$(BIN)/paperfeed serve

## test: lint, type-check, and the whole test suite (slow tests included)
test: $(STAMP) $(KATEX) chromium postgresql lint
	$(BIN)/pytest -m "slow or not slow"

## fast-test: the suite without the slow tests
fast-test: $(STAMP) $(KATEX) postgresql
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/cog --check README.md docs/cli.md
	$(BIN)/lint-imports

fix: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## docs: regenerate the CLI reference from --help
docs: $(STAMP)
	$(BIN)/cog -r README.md docs/cli.md

bench: bench-ingest bench-embed bench-keyword bench-quality bench-search bench-vectors bench-web

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

## bench-web: feed page and /api/daily_papers under load on the full corpus (needs wrk)
bench-web: $(STAMP)
	$(BIN)/python bench/web.py

bench-digest: $(STAMP)
	$(BIN)/python bench/digest.py
