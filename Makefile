# Privet: every target bootstraps .venv/ itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The tests run in one process per core (pytest-xdist); PYTEST_ARGS=... runs what it names in one.
PYTEST_ARGS ?= -n auto
DEMO_ARGS ?=

.PHONY: install demo test lint typecheck browser bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Web pages are tested in Debian's Chromium, driven by Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests" >&2; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium >/dev/null; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium >/dev/null; fi; }

demo: $(STAMP)
	$(BIN)/privet demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) browser lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .privet .pytest_cache .mypy_cache .ruff_cache
