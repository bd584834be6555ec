# derivlib: `make docs` builds the site, `make test` runs every check.
# Each target creates the virtual environment it needs (.venv) on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPHINXBUILD := $(BIN)/sphinx-build -c conf -W --keep-going -n

.PHONY: docs test unit docs-fresh browser serve linkcheck mutate mutate-unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,docs]'
	touch $@

# Pyodide for the playground page, pinned by package-lock.json (needs Node and npm)
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(VENV)/.bench: $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,docs,bench]'
	touch $@

$(VENV)/.mutate: $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test,docs,mutate]'
	touch $@

## docs: build the site into _build/html (pages re-execute when they or derivlib change)
docs: $(STAMP) node_modules/.installed
	$(SPHINXBUILD) -b html docs _build/html
	@echo
	@echo "Site built. Open file://$(CURDIR)/_build/html/index.html"

## test: unit tests and doctests (warnings are errors), the docs built from scratch, the browser test
test: unit docs-fresh browser

unit: $(STAMP)
	$(BIN)/python -W error -m pytest

docs-fresh: $(STAMP) node_modules/.installed
	rm -rf _build/html _build/doctrees _build/jupyter_cache
	$(SPHINXBUILD) -E -b html docs _build/html

browser: $(STAMP)
	$(BIN)/python -W error -m pytest site_tests

## serve: live preview with sphinx-autobuild on http://127.0.0.1:8000
serve: $(STAMP) node_modules/.installed
	$(BIN)/sphinx-autobuild -c conf --host 127.0.0.1 --port 8000 --watch derivlib docs _build/html

## linkcheck: every internal link and anchor resolves; external links are listed, not fetched
linkcheck: docs
	$(SPHINXBUILD) -b linkcheck -D 'linkcheck_ignore=https?://.*' docs _build/linkcheck
	$(BIN)/python tools/check_links.py _build/html _build/linkcheck/output.json

## mutate: the catalogue of wrong formulas, each must be killed by the tests and the docs build
mutate: $(VENV)/.mutate
	$(BIN)/python tools/mutate.py

## mutate-unit: the same catalogue against the unit tests only (what CI runs)
mutate-unit: $(STAMP)
	$(BIN)/python tools/mutate.py --unit-only

## bench: benchmarks; JSON and plots under _build/benchmarks/
bench: $(VENV)/.bench docs
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/playground.py

clean:
	rm -rf _build
