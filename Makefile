# 大庆市婴幼儿照护服务平台 — developer commands. `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONWARNINGS ?= ignore

.PHONY: install pwa run serve test test-external bench lint lock migrate seed db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The PWA (issue 8) builds with npm when pwa/package.json exists; until then pwa/public is served as is.
pwa:
	@if [ -f pwa/package.json ]; then cd pwa && npm ci --no-audit --no-fund && npm run build; \
	else echo "pwa: placeholder page (pwa/public), nothing to build"; fi

# Embedded PostgreSQL (unless DATABASE_URL is set) + migrations + Daqing demo data + server on 127.0.0.1:8000.
run: install pwa
	$(BIN)/python -m backend run

serve: install
	$(BIN)/python -m backend serve

# The whole suite against real PostgreSQL: embedded by default, TEST_DATABASE_URL for another server.
test: install
	$(BIN)/python -m pytest

# The same suite against the PostgreSQL this machine runs on 127.0.0.1:5432 (the external-server path).
TEST_EXTERNAL_URL ?= postgresql://postgres@127.0.0.1:5432/test
test-external: install
	TEST_DATABASE_URL=$(TEST_EXTERNAL_URL) $(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/nearby.py
	$(BIN)/python bench/booking.py
	$(BIN)/python bench/fanout.py

lint: install
	$(BIN)/ruff check backend tests bench migrations

migrate: install
	$(BIN)/python -m backend migrate

seed: install
	$(BIN)/python -m backend seed

db-stop: install
	$(BIN)/python -m backend db-stop

# Re-resolve dependencies from pyproject.toml in a scratch venv and write constraints.txt.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	{ echo "# Exact versions of every Python package (direct and transitive), for reproducible installs."; \
	  echo "# Regenerate after changing pyproject.toml: make lock"; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e'; } > constraints.txt
	rm -rf .venv-lock

clean:
	-$(BIN)/python -m backend db-stop 2>/dev/null
	rm -rf $(VENV) var .pytest_cache .hypothesis
