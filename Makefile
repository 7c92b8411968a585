# Set-up and everyday commands. `make run` and `make test` do everything on a fresh clone.
PY := .venv/bin/python
PIP := .venv/bin/pip
PG_URL ?= postgres://postgres@127.0.0.1:5432/wizard
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: venv browser run test test-sqlite test-postgres serve bench goldens lint clean

# The venv is rebuilt when either requirements file changes.
.venv/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	# XStatic-Bootstrap ships only an sdist whose setup.py imports pkg_resources:
	# build it against an older setuptools, without build isolation.
	$(PIP) install -q "setuptools<81" wheel
	$(PIP) install -q --no-build-isolation XStatic-Bootstrap==5.3.8.0
	$(PIP) install -q -r requirements-dev.txt
	touch $@

venv: .venv/.installed

# Debian's Chromium for the browser tests (Playwright never downloads a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	    || echo "WARNING: could not install chromium: browser tests will be skipped"; }

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	DJANGO_DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

test: venv lint browser test-sqlite test-postgres

test-sqlite:
	@echo "== test suite on SQLite"
	$(PY) -m pytest -q

# The same suite against PostgreSQL when 127.0.0.1:5432 answers; skipped, saying so, when not.
test-postgres:
	@if $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2).close()" 2>/dev/null; then \
	  echo "== test suite on PostgreSQL ($(PG_URL))"; \
	  DATABASE_URL=$(PG_URL) $(PY) -m pytest -q; \
	else \
	  echo "== SKIPPED the PostgreSQL pass: nothing answers on 127.0.0.1:5432"; \
	fi

# Production serving on this machine: gunicorn (gunicorn.conf.py) with WhiteNoise for static
# files, DEBUG off, on $(HOST):$(PORT). Reads .env when there is one (see .env.example). With no
# DJANGO_SECRET_KEY it uses the key kept in the untracked file .secret_key, generated on first
# use: right for one machine, wrong for several app servers (give them one DJANGO_SECRET_KEY).
serve: venv
	@set -a; if [ -f .env ]; then . ./.env; fi; set +a; \
	if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then \
	  if [ ! -s .secret_key ]; then (umask 077 && $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key); fi; \
	  echo "make serve: DJANGO_SECRET_KEY is not set: using the key kept in .secret_key (this machine only)" >&2; \
	  DJANGO_SECRET_KEY="$$(cat .secret_key)"; export DJANGO_SECRET_KEY; \
	fi; \
	export DJANGO_DEBUG=false GUNICORN_BIND="$${GUNICORN_BIND:-$(HOST):$(PORT)}"; \
	$(PY) manage.py migrate --noinput && \
	$(PY) manage.py collectstatic --noinput --clear -v 0 && \
	$(PY) manage.py check --deploy && \
	exec .venv/bin/gunicorn wizard.wsgi -c gunicorn.conf.py

# Benchmarks, on demand only (never part of `make test`): rendering in process, then pages
# under gunicorn on loopback. Figures and goals: docs/performance.md.
bench: venv
	$(PY) bench/run_all.py

goldens: venv
	$(PY) manage.py update_goldens

# ruff over everything, mypy over the pure core (mypy.ini names it). Part of `make test`.
lint: venv
	.venv/bin/ruff check wizard tests bench tools
	.venv/bin/mypy

clean:
	rm -rf .venv staticfiles db.sqlite3
