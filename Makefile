# 大庆市婴幼儿照护服务平台 — developer commands. `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONWARNINGS ?= ignore

.PHONY: install pwa pwa-test api-types browser run serve test test-external bench bench-smoke bench-load lint lock migrate seed db-stop clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The PWA: npm packages exactly as package-lock.json pins them, then type-check + Vite build into
# pwa/dist (served at /), printing the initial JavaScript size against its 250 KB budget.
PWA_STAMP := pwa/node_modules/.installed
$(PWA_STAMP): pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $(PWA_STAMP)

pwa: $(PWA_STAMP)
	cd pwa && npm run build

# The PWA's TypeScript types of the API (pwa/src/api/schema.d.ts), generated from the OpenAPI document
# by openapi-typescript. Run after changing an API schema; a test fails while the file is stale.
api-types: install $(PWA_STAMP)
	$(BIN)/python -m backend openapi > var/openapi.json
	cd pwa && npx openapi-typescript ../var/openapi.json -o src/api/schema.d.ts

# Unit tests of the PWA's stores and utilities (Vitest).
pwa-test: $(PWA_STAMP)
	cd pwa && npm test

# Debian's chromium (and CJK fonts for readable screenshots) for the PWA's end-to-end tests.
# Installed with apt when this user can; otherwise the end-to-end tests say loudly they were skipped.
browser:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -q chromium fonts-noto-cjk >/dev/null || \
	  { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; } || \
	  echo "!!! could not install chromium with apt: the PWA end-to-end tests will be SKIPPED !!!" >&2; \
	else echo "!!! /usr/bin/chromium is missing and apt is not available to this user: the PWA end-to-end tests will be SKIPPED !!!" >&2; fi

# Embedded PostgreSQL (unless DATABASE_URL is set) + migrations + Daqing demo data + server on 127.0.0.1:8000.
run: install pwa
	$(BIN)/python -m backend run

serve: install
	$(BIN)/python -m backend serve

# The whole suite against real PostgreSQL (embedded by default, TEST_DATABASE_URL for another server),
# the PWA's unit tests, and its end-to-end tests in headless chromium.
test: install pwa browser pwa-test
	$(BIN)/python -m pytest

# The backend suite against the PostgreSQL this machine runs on 127.0.0.1:5432 (the external-server path).
# The browser end-to-end tests (tests/pwa) run once per CI run, in `make test`: they exercise the PWA,
# which does not change with the server's version.
TEST_EXTERNAL_URL ?= postgresql://postgres@127.0.0.1:5432/test
test-external: install pwa
	TEST_DATABASE_URL=$(TEST_EXTERNAL_URL) $(BIN)/python -m pytest --ignore=tests/pwa

bench: install
	$(BIN)/python bench/nearby.py
	$(BIN)/python bench/booking.py
	$(BIN)/python bench/fanout.py

# Every script in bench/ at a tiny size (seconds each, `--smoke`), failing on any error: run by .ci/run
# so that no benchmark rots. The figures it prints mean nothing; BENCHMARKS.md has the real runs.
bench-smoke: install pwa browser
	@set -e; for script in bench/*.py bench/load/run.py; do \
	  case "$$script" in bench/common.py) continue;; esac; \
	  echo "== $$script --smoke"; $(BIN)/python "$$script" --smoke; \
	done

# The load scenario (locust, headless, 60 s): 200 parents searching and booking, 50 staff at the desk,
# 500 WebSocket listeners, against a server started as `make run` serves it (see BENCHMARKS.md, "Load").
bench-load: install
	$(BIN)/python bench/load/run.py

lint: install
	$(BIN)/ruff check backend tests bench migrations
	$(BIN)/deptry .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tests/long_functions.py

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
	rm -rf $(VENV) var .pytest_cache .hypothesis pwa/node_modules pwa/dist
