# Leitplanke — the two commands of the README's Quick start:
#   make demo   create .venv, install, migrate SQLite, load demo data, serve on http://127.0.0.1:8000
#   make test   create .venv if needed, install test dependencies, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= leitplanke.config.settings.dev

.PHONY: demo test lint typecheck importlint migrations-check gates bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"

$(VENV)/.runtime-installed: $(BIN)/python requirements/base.txt pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/base.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

demo: $(VENV)/.runtime-installed
	$(BIN)/leitplanke demo --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy src

importlint: $(VENV)/.dev-installed
	$(BIN)/lint-imports

migrations-check: $(VENV)/.dev-installed
	DJANGO_SETTINGS_MODULE=leitplanke.config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

gates: lint typecheck importlint migrations-check
	LEITPLANKE_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))') \
	LEITPLANKE_ALLOWED_HOSTS=leitplanke.example DJANGO_SETTINGS_MODULE=leitplanke.config.settings.prod \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

messages: $(VENV)/.dev-installed
	cd src/leitplanke && ../../$(BIN)/python ../../manage.py makemessages -l de -l en --no-obsolete --ignore 'static/*'
	cd src/leitplanke && ../../$(BIN)/python ../../manage.py compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
