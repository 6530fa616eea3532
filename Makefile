# Vigie — two commands for a newcomer: `make demo` (run the app) and `make test` (run the tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Tests always run on PostgreSQL (never SQLite).
TEST_DATABASE_URL ?= postgres://root@127.0.0.1:5432/vigie
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# `make bench` fills its own database (created if missing) with ~100,000 fictitious dossiers.
BENCH_DATABASE_URL ?= postgres://root@127.0.0.1:5432/vigie_bench

.PHONY: install demo run test lint format check worker beat bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

## Embedded default: SQLite, eager Celery, console e-mail, demo data, http://127.0.0.1:8000
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Vigie tourne sur http://127.0.0.1:8000 (Ctrl-C pour arrêter)."
	$(PY) manage.py runserver 127.0.0.1:8000

run: install
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=1 \
		$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

## Real background processes (need CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)
worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

## Dashboard benchmark: ~100,000 dossiers in a dedicated PostgreSQL database, then timings (fails above target)
bench: install
	psql "$(dir $(BENCH_DATABASE_URL))postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_DATABASE_URL))'" | grep -q 1 \
		|| createdb -h 127.0.0.1 -p 5432 -U root $(notdir $(BENCH_DATABASE_URL))
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench_dashboard
