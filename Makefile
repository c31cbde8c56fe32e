# The commands people run. `make run` and `make test` are the README's quick start.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check lint types messages install migrate seed bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Installs exactly what the lock file pins (hashes checked), again whenever the lock changes.
$(VENV)/.installed: requirements.lock | $(BIN)/activate
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

install: $(VENV)/.installed

# French catalogues: GNU gettext's msgfmt when the machine has it, else Babel (pure Python).
messages: install
	@if command -v msgfmt >/dev/null; then \
		$(PY) manage.py compilemessages --ignore=.venv -v 0; \
	else \
		for po in $$(find . -path ./$(VENV) -prune -o -name '*.po' -print); do \
			$(BIN)/pybabel compile --statistics -i $$po -o $${po%.po}.mo || exit 1; \
		done; \
	fi

migrate: messages
	$(PY) manage.py migrate --noinput -v 0

seed: migrate
	$(PY) manage.py seed_demo

# Links in emails point where this portal is served, unless SITE_URL says otherwise.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: seed
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		echo "Serving on http://$(HOST):$(PORT) with a Celery worker and beat (broker: $$CELERY_BROKER_URL)"; \
		echo "Links in emails point to $$SITE_URL"; \
		HOST=$(HOST) PORT=$(PORT) exec $(BIN)/honcho start -f Procfile; \
	else \
		echo "Serving on http://$(HOST):$(PORT) (SQLite in var/, tasks run in-process)"; \
		echo "Links in emails point to $$SITE_URL"; \
		exec $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy .

check: lint types messages
	$(PY) manage.py makemigrations --check --dry-run -v 1
	$(PY) manage.py check

test: check
	$(BIN)/pytest

bench: migrate
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var
