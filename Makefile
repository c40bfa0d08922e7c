# The two commands of SPEC section 1, plus lint and bench.  `make help` lists the targets.
#
#   make run     install, migrate, load demo data, start web + Celery worker + beat (Ctrl-C stops all)
#   make test    install, lint, Django checks, the whole pytest suite (PYTEST_ARGS="-k foo" narrows it)
#   make bench   install, run the benchmarks in bench/
#   make lint    ruff check + ruff format --check
#
# PostgreSQL and Redis: DATABASE_URL / REDIS_URL if set, else the machine's on 127.0.0.1, else embedded
# ones under ./var/ (see scripts/services.py; ITSM_FORCE_EMBEDDED=1 skips the machine's).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# Front-end packages are installed only once someone has written a package.json.
NPM_TARGET := $(if $(wildcard package.json),$(NPM_STAMP))

export PYTEST_ARGS

.DEFAULT_GOAL := help
.PHONY: help install .venv run test bench lint

help:
	@sed -n 's/^#   make /make /p' $(MAKEFILE_LIST)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changed since the last successful install.
# python-ldap (for django-auth-ldap, directory sign-in) has no wheels: it compiles against Debian's OpenLDAP
# and SASL headers, installed here when missing (as root; .ci/run installs them too).
$(VENV_STAMP): pyproject.toml | $(PY)
	@if [ ! -e /usr/include/ldap.h ] || [ ! -e /usr/include/sasl/sasl.h ] || ! command -v gcc >/dev/null; then \
		echo "installing gcc and the LDAP/SASL headers python-ldap builds against"; \
		{ apt-get update -q >/dev/null 2>&1; apt-get install -y -q --no-install-recommends gcc libc6-dev libldap2-dev libsasl2-dev >/dev/null 2>&1; } \
		|| echo "could not install libldap2-dev libsasl2-dev gcc: install them, or pip cannot build python-ldap"; \
	fi
	$(PY) -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $@

# `npm ci` when there is a lock file (exact, reproducible), else `npm install` (which writes one).
$(NPM_STAMP): package.json $(wildcard package-lock.json)
	@if [ -f package-lock.json ]; then echo "npm ci"; npm ci --no-audit --no-fund; \
	else echo "npm install"; npm install --no-audit --no-fund; fi
	@mkdir -p node_modules && touch $@

install .venv: $(VENV_STAMP) $(NPM_TARGET)

run: install
	$(PY) scripts/run.py

test: install
	$(PY) scripts/test.py

# wrk (Debian) measures HTTP throughput natively; the benchmarks fall back to Python clients without it.
# valgrind (Debian) counts the web process's instructions per request (bench/python_instructions.py).
bench: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null 2>&1 || echo "wrk not installed: native load figures skipped"
	@command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null 2>&1 || echo "valgrind not installed: instruction counts skipped"
	$(PY) scripts/test.py --bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
