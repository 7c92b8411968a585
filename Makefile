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

test: venv browser test-sqlite test-postgres

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

goldens: venv
	$(PY) manage.py update_goldens

lint: venv
	.venv/bin/ruff check wizard tests bench tools

clean:
	rm -rf .venv staticfiles db.sqlite3
