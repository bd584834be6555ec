# derivlib: `make docs` builds the site, `make test` runs every check.
# Each target creates the virtual environment it needs (.venv) on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILDDIR ?= _build
SPHINXOPTS ?=
# The one place the docs build command (and the configuration's location) is written;
# tools/mutate.py and benchmarks/docs_build.py run `make html` with their own BIN, BUILDDIR
# and SPHINXOPTS. -n is nitpicky mode (also set in conf/conf.py).
SPHINXBUILD = $(BIN)/sphinx-build -c conf -W --keep-going -n $(SPHINXOPTS)
# verification/ (the evidence package) is imported from the checkout, never installed
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

.PHONY: docs html test unit docs-fresh browser chromium serve linkcheck mutate mutate-unit bench differential clean

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

## docs: build the site into _build/html (a page re-executes when it, derivlib/,
## verification/ or docs/_generated/ changes: conf/derivlib_sphinx.py)
docs: $(STAMP)
	@$(MAKE) --no-print-directory html
	@echo
	@echo "Site built. Open file://$(CURDIR)/_build/html/index.html"

## test: unit tests and doctests (warnings are errors), the docs built from scratch, the browser test
test: unit docs-fresh browser

## html: the build command alone, without creating .venv (it runs npm ci for Pyodide)
html: node_modules/.installed
	$(SPHINXBUILD) -b html docs $(BUILDDIR)/html

unit: $(STAMP)
	$(BIN)/python -W error -m pytest

docs-fresh: $(STAMP)
	rm -rf $(BUILDDIR)/html $(BUILDDIR)/doctrees $(BUILDDIR)/jupyter_cache
	@$(MAKE) --no-print-directory html SPHINXOPTS="-E $(SPHINXOPTS)"

## browser: the browser test of the built site; needs Chromium (installed from Debian when
## run as root with apt-get). SKIP_BROWSER=1 skips it, explicitly and loudly.
browser: $(STAMP)
ifeq ($(SKIP_BROWSER),1)
	@echo "SKIP_BROWSER=1: the browser test of the site was NOT run"
else
	@$(MAKE) --no-print-directory chromium
	$(BIN)/python -W error -m pytest site_tests
endif

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser test needs Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium)," >&2; \
	    echo "or run with SKIP_BROWSER=1 to skip the browser test explicitly." >&2; exit 1; \
	  fi; }

## serve: live preview with sphinx-autobuild on http://127.0.0.1:8000
serve: $(STAMP) node_modules/.installed
	$(BIN)/sphinx-autobuild -c conf --host 127.0.0.1 --port 8000 --watch derivlib --watch verification docs _build/html

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

## differential: the engine against PyTorch on 5,000 random expressions (make test runs 300);
## a failure prints its seed: DERIVLIB_DIFFERENTIAL_SEED=<seed> replays it
differential: $(STAMP)
	DERIVLIB_DIFFERENTIAL_N=5000 $(BIN)/python -W error -m pytest tests/test_differential.py tests/test_differential_loops.py

## bench: benchmarks on all the cores (the headline) and on one; JSON and plots under
## _build/benchmarks/, published to docs/_generated/benchmarks/. OPENBLAS_CORETYPE and
## OPENBLAS_L2_SIZE (set on some machines for old OpenBLAS builds) would make numpy run an
## older kernel: unset for this command alone; the kernel used is recorded.
bench: $(VENV)/.bench docs
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/run.py $(BENCHOPTS)
	$(BIN)/python benchmarks/playground.py

clean:
	rm -rf _build
