# PivotDesk — two commands: `make run` and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
export DJANGO_SETTINGS_MODULE ?= config.settings
# uv must use the Python found here, never download one.
export UV_PYTHON_DOWNLOADS := never

# Python 3.12: `make PYTHON=/path/to/python3.12`, else python3.12 on PATH (a pyenv shim that fails does not
# count), else the newest ~/.pyenv/versions/3.12.*. Resolved to a real executable once.
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null || \
	ls -d $(HOME)/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -n 1)
endif
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run install install-dev migrate seed seed-data test lint types contracts pytest pytest-postgres bench clean messages python screenshots

# Fails early, and clearly, without Python 3.12 (checked only when the virtualenv must be built).
define need_python
	@if [ -z "$(PYTHON)" ] || ! "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then \
		echo "PivotDesk needs Python 3.12 and found none (looked for python3.12 on PATH and ~/.pyenv/versions/3.12.*)." >&2; \
		echo "Install it (e.g. 'pyenv install 3.12' or your system's python3.12 package), or: make run PYTHON=/path/to/python3.12" >&2; \
		exit 1; \
	fi
endef

python: ## check that Python 3.12 is there
	$(need_python)
	@echo "Python 3.12: $(PYTHON)"

.tools/bin/uv:
	$(need_python)
	"$(PYTHON)" -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# `make run` installs what PivotDesk needs to run (no test, lint or browser tools: a much smaller virtualenv);
# `make test` adds the development group. --inexact keeps a developer's test tools when `make run` syncs again.
$(VENV)/.runtime: pyproject.toml uv.lock | $(UV)
	$(need_python)
	$(UV) sync --frozen --no-dev --inexact --python "$(PYTHON)"
	@touch $@

$(VENV)/.dev: pyproject.toml uv.lock | $(UV)
	$(need_python)
	$(UV) sync --frozen --python "$(PYTHON)"
	@touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime ## create the virtualenv with the locked runtime dependencies

install-dev: $(VENV)/.dev ## add the development tools (tests, lint, types, browser)

migrate: install
	$(BIN)/python manage.py migrate --noinput
	@# The compiled catalogues are committed: compile only when a .po is newer than its .mo (saves ~9 s per run).
	@# (2 s of slack: a fresh clone writes each .po just after its .mo.)
	@if $(BIN)/python -c 'import pathlib, sys; sys.exit(not any(not (m := p.with_suffix(".mo")).exists() or \
		p.stat().st_mtime > m.stat().st_mtime + 2 for p in pathlib.Path("pivotdesk").rglob("django.po")))'; then \
		$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=.tools --ignore=bench >/dev/null 2>&1 || true; fi

# The demo data without its triage (`make run` triages in the background once the web server answers).
seed-data: migrate
	@out=$$(mktemp); $(BIN)/python manage.py seed_demo --if-empty | tee $$out; status=$${PIPESTATUS[0]}; \
	if [ $$status -ne 0 ]; then rm -f $$out; exit $$status; fi; \
	if ! grep -q "nothing seeded" $$out; then $(BIN)/python manage.py ai train --workspace demo | grep -E "^[a-z_]+: " || true; fi; \
	rm -f $$out
	$(BIN)/python manage.py search_reindex --missing

seed: seed-data ## seed the demo workspace when the database is empty, train its first models, triage it
	$(BIN)/python manage.py ai_triage_all --workspace demo

run: seed-data ## installed, migrated, demo data, web + worker + scheduler; Ctrl-C stops all
	$(BIN)/python manage.py collectstatic --noinput >/dev/null
	@# The banner waits for the web server to answer, so its link works when it appears; then the demo tickets
	@# not yet triaged are triaged in the background (batched; a ticket opened meanwhile is triaged by the worker).
	@($(BIN)/python manage.py demo_banner --wait 300 && $(BIN)/python manage.py ai_triage_all --workspace demo --pause 0.1 &)
	PIVOTDESK_LOG_TIMESTAMPS=0 PYTHONUNBUFFERED=1 exec $(BIN)/honcho start -f Procfile

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install-dev
	$(BIN)/mypy pivotdesk config

contracts: install-dev
	$(BIN)/lint-imports

pytest: install-dev
	$(BIN)/pytest -q -n 2 --dist loadgroup -m "not browser"
	$(BIN)/pytest -q -m browser

# The same suite on PostgreSQL when PIVOTDESK_TEST_DATABASE_URL is set (CI sets it).
pytest-postgres: install-dev
	@if [ -n "$$PIVOTDESK_TEST_DATABASE_URL" ]; then \
		DATABASE_URL="$$PIVOTDESK_TEST_DATABASE_URL" $(BIN)/pytest -q -n 2 --dist loadgroup -m "not browser"; \
	else echo "PIVOTDESK_TEST_DATABASE_URL not set: PostgreSQL suite skipped"; fi

test: lint types contracts pytest pytest-postgres ## lint, types, import contracts, all tests

# PNGs of the main screens (zh-Hans and en, 1440×900 and 390×844) into var/screenshots/ (not committed), with an
# index.html; Debian's chromium through Playwright (a dev tool). `make screenshots BASE=http://127.0.0.1:8000` shoots a
# running `make run` instead of serving the database itself.
screenshots: install-dev seed-data ## screenshots of the main pages into var/screenshots/
	$(BIN)/python manage.py screenshots $(if $(BASE),--base $(BASE))

bench: install-dev ## benchmarks (never part of make test)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tools var
