# destreg: `make run` sets up and serves the app, `make test` sets up and runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)

.PHONY: run test install system-deps setup lint messages lock bench load faults clean prod-check

run: setup
	@echo "Serving on http://127.0.0.1:8000 (demo password: demo12345)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	scripts/install-system-deps --with-browser
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

system-deps:
	scripts/install-system-deps

setup: install system-deps
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# `manage.py check --deploy` with production settings; any warning fails. A real deployment
# sets these variables itself (docs/deploy.md); here throwaway values stand in for them.
prod-check: install
	scripts/prod-check

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

# Extract strings into locale/zh_Hans/LC_MESSAGES/django.po and compile the .mo (needs gettext).
messages: install
	$(BIN)/python manage.py makemessages --locale zh_Hans --ignore '.venv/*' --ignore 'var/*' --no-obsolete
	$(BIN)/python manage.py compilemessages --locale zh_Hans --ignore '.venv/*'

# Re-pin requirements.lock from pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf var/destreg.sqlite3* var/test.sqlite3* var/media

# Benchmarks (see benchmarks/): figures are ratios measured side by side in one run.
bench: install system-deps
	$(BIN)/python benchmarks/pdf.py
	$(BIN)/python benchmarks/review_queue.py
	$(BIN)/python benchmarks/flags.py
	$(BIN)/python benchmarks/batch_invitations.py
	$(BIN)/python benchmarks/national_export.py
	$(BIN)/python benchmarks/registry_import.py

# Peak-season load (locust against gunicorn + PostgreSQL, then a consistency check) and
# the fault runs (PostgreSQL restarted and Redis stopped under load, a full media disk;
# needs root).
load: install
	$(BIN)/python benchmarks/load.py

faults: install system-deps
	$(BIN)/python benchmarks/faults.py
