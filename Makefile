# Vigie — two commands for a newcomer: `make demo` (run the app) and `make test` (run the tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Tests always run on PostgreSQL (never SQLite).
TEST_DATABASE_URL ?= postgres://root@127.0.0.1:5432/vigie
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# `make bench` fills its own database (created if missing) with ~100,000 fictitious dossiers and ~20,000 accounts.
BENCH_DATABASE_URL ?= postgres://root@127.0.0.1:5432/vigie_bench
BENCH_SMOKE_DATABASE_URL ?= postgres://root@127.0.0.1:5432/vigie_bench_smoke
TEST_WORKERS ?= 2

.PHONY: install demo run test test-dates lint format check audit worker beat bench bench-smoke backup restore \
	prod prod-supervisor chaos

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

## The suite runs on TEST_WORKERS processes (pytest-xdist, one test database each); the tests that start real
## Celery processes share one Redis database and run together in one of them.
test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=1 \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

## The date-sensitive tests (marker `dates`) again at each pinned instant of TEST_DATES (the session clock,
## VIGIE_TEST_NOW, Paris): New Year's Eve and Day, 29 February, both DST switches, a quarter's last evening,
## an ordinary autumn morning. Real Celery processes (`integration`) read the real clock, and the browser suite
## (`browser`) is not date-sensitive: both left out.
## Every instant is run, then the failing ones are listed.
TEST_DATES ?= 2026-12-31T23:30:00+01:00 2027-01-01T00:30:00+01:00 2028-02-29T12:00:00+01:00 \
	2027-03-28T03:30:00+02:00 2027-10-31T02:30:00+01:00 2027-06-30T23:45:00+02:00 2027-10-02T09:00:00+02:00
test-dates: install
	@failed=""; for now in $(TEST_DATES); do \
		echo "=== make test-dates: VIGIE_TEST_NOW=$$now ==="; \
		VIGIE_TEST_NOW=$$now DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$(TEST_REDIS_URL) \
			CELERY_TASK_ALWAYS_EAGER=1 $(PY) -m pytest -m "dates and not integration and not browser" -n $(TEST_WORKERS) \
			|| failed="$$failed $$now"; \
	done; \
	if [ -n "$$failed" ]; then echo "make test-dates: failures at$$failed"; exit 1; fi; \
	echo "make test-dates: green at every pinned instant"

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

## Known vulnerabilities in the pinned packages (PyPI's advisory data, through pip-audit): any one fails.
## pip-audit asks PyPI about each pinned version; where that answer cannot be had (a registry mirror without
## the per-version JSON API, as on an offline CI), the audit says loudly that it was not performed.
AUDIT_PROBE ?= https://pypi.org/pypi/pip-audit/2.10.1/json
audit: install
	@if curl -fsS -o /dev/null --max-time 15 $(AUDIT_PROBE); then \
		$(VENV)/bin/pip-audit --strict --progress-spinner off -r requirements.txt -r requirements-dev.txt; \
	else \
		echo "make audit: NON EFFECTUÉ — le service d'avis de sécurité de PyPI ($(AUDIT_PROBE)) ne répond pas d'ici."; \
	fi

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

## The performance report (docs/performance.md): fills the bench database once (~100,000 dossiers, ~20,000
## accounts, their grants), reuses it afterwards, measures every line, writes var/bench.md and var/bench.json;
## fails when a target is missed. The growth line fills (once) a second, one-jurisdiction world in
## <database>_growth. bench-smoke: fresh small worlds (3,000 dossiers, 300 for growth) and a short load, so that
## the bench itself cannot rot (run by .ci/run; it fails only if the bench cannot run).
bench: install
	psql "$(dir $(BENCH_DATABASE_URL))postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(BENCH_DATABASE_URL))'" | grep -q 1 \
		|| createdb -h 127.0.0.1 -p 5432 -U root $(notdir $(BENCH_DATABASE_URL))
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) manage.py bench

bench-smoke: install
	dropdb -h 127.0.0.1 -p 5432 -U root --if-exists $(notdir $(BENCH_SMOKE_DATABASE_URL))
	dropdb -h 127.0.0.1 -p 5432 -U root --if-exists $(notdir $(BENCH_SMOKE_DATABASE_URL))_growth
	createdb -h 127.0.0.1 -p 5432 -U root $(notdir $(BENCH_SMOKE_DATABASE_URL))
	DATABASE_URL=$(BENCH_SMOKE_DATABASE_URL) $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=$(BENCH_SMOKE_DATABASE_URL) $(PY) manage.py bench --smoke --dossiers 3000 --repeat 3 \
		--clients 10 --seconds 15

## Encrypted backup (VIGIE_BACKUP_KEY) of the database (one consistent snapshot), the private files and the
## journal's checkpoints, in one file under var/backups/ (or OUTPUT=…). Restored into a new database by
## `make restore FILE=var/backups/vigie-….vbk DATABASE=vigie_restauree [STORAGE=empty/folder]`.
backup: install
	$(PY) manage.py backup $(if $(OUTPUT),--output $(OUTPUT))

restore: install
	@test -n "$(FILE)" -a -n "$(DATABASE)" \
		|| { echo "Usage : make restore FILE=sauvegarde.vbk DATABASE=nouvelle_base [STORAGE=dossier_vide]"; exit 2; }
	$(PY) manage.py restore $(FILE) --database $(DATABASE) $(if $(STORAGE),--storage $(STORAGE))

## Vigie as in production on this machine, no demo data: gunicorn serving TLS on https://127.0.0.1:8443/
## (self-signed certificate), a Celery worker and one beat, run by honcho (deploy/Procfile); PostgreSQL database
## vigie_prod and Redis database 3. Settings, secrets and certificate are made once under var/prod/ (never
## committed). prod-supervisor: the first supervisor account and its single-use link to choose a password.
prod: install
	VIGIE_PYTHON=$(PY) deploy/prod

prod-supervisor: install
	@test -n "$(EMAIL)" || { echo "Usage : make prod-supervisor EMAIL=prenom.nom@exemple.fr"; exit 2; }
	VIGIE_PYTHON=$(PY) deploy/manage-prod create_supervisor "$(EMAIL)"

## Two fault tests of `make test` (tests/faults), harder: the worker killed 100 times instead of 20, and the
## machine's PostgreSQL really stopped and started (pg_ctlcluster) instead of cut by a relay — nothing else may
## use it meanwhile.
chaos: install
	CHAOS_KILLS=100 VIGIE_FAULTS_RESTART_POSTGRESQL=1 DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
		CELERY_BROKER_URL=$(TEST_REDIS_URL) CELERY_TASK_ALWAYS_EAGER=1 \
		$(PY) -m pytest -p no:xdist tests/faults/test_worker_killed.py tests/faults/test_database_restart.py
