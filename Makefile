# Leitplanke — the two commands of the README's Quick start:
#   make demo   create .venv, install, migrate SQLite, load demo data, serve on http://127.0.0.1:8000
#   make test   create .venv if needed, install test dependencies, run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= leitplanke.config.settings.dev

.PHONY: demo test lint typecheck importlint migrations-check deploy-check gates bench messages clean

# pip runs through scripts/pip_install.py: one line per step, pip's errors, and not the per-package
# notices of a partial local mirror that a machine's own pip.conf may name (see that script).
PIP_INSTALL := $(BIN)/python scripts/pip_install.py

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
		{ echo "Leitplanke needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1). Run make PYTHON=python3.11 …" >&2; exit 1; }
	@echo "Creating the virtual environment in $(VENV)…"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create $(VENV) (on Debian or Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
	@$(PIP_INSTALL) "Updating pip" --upgrade "pip>=24"

$(VENV)/.runtime-installed: $(BIN)/python requirements/base.txt pyproject.toml
	@$(PIP_INSTALL) "Installing dependencies (requirements/base.txt, about a minute)" -r requirements/base.txt
	@$(PIP_INSTALL) "Installing Leitplanke" --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements/dev.txt
	@$(PIP_INSTALL) "Installing test and development tools (requirements/dev.txt)" -r requirements/dev.txt
	@touch $@

demo: $(VENV)/.runtime-installed
	@$(BIN)/leitplanke demo --host $(HOST) --port $(PORT)

# pytest-django prefers DJANGO_SETTINGS_MODULE from the environment over pyproject.toml, and this
# Makefile exports the dev settings for demo/messages: name the test settings explicitly.
test: $(VENV)/.dev-installed
	DJANGO_SETTINGS_MODULE=leitplanke.config.settings.test $(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy src

importlint: $(VENV)/.dev-installed
	$(BIN)/lint-imports

migrations-check: $(VENV)/.dev-installed
	DJANGO_SETTINGS_MODULE=leitplanke.config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

gates: lint typecheck importlint migrations-check deploy-check

deploy-check: $(VENV)/.dev-installed
	LEITPLANKE_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))') \
	LEITPLANKE_AUDIT_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))') \
	LEITPLANKE_ALLOWED_HOSTS=leitplanke.example DJANGO_SETTINGS_MODULE=leitplanke.config.settings.prod \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

# Benchmark against the peer (django-helpdesk) with the shared client; see docs/benchmarks.md.
#   make bench N=100000 DB=sqlite      (DB=postgres needs PostgreSQL at 127.0.0.1:5432, user postgres)
#   make bench PORT=8108               both servers (Leitplanke's, then the peer's) on this port;
#                                      without PORT each takes a free port of its own
N ?= 100000
DB ?= sqlite
bench: $(VENV)/.dev-installed
	$(BIN)/python bench/run.py --n $(N) --db $(DB) $(if $(filter command line environment,$(origin PORT)),--port $(PORT)) $(BENCH_ARGS)

# The catalogues carry no source locations and are sorted by msgid, so that two branches which
# add texts rarely touch the same lines (fewer merge conflicts).
messages: $(VENV)/.dev-installed
	cd src/leitplanke && LEITPLANKE_DATA_DIR=$(CURDIR)/var ../../$(BIN)/python ../../manage.py makemessages -l de --no-obsolete --no-location --ignore 'static/*' --ignore 'var/*'
	msgcat --sort-output --no-location -o src/leitplanke/locale/de/LC_MESSAGES/django.po src/leitplanke/locale/de/LC_MESSAGES/django.po
	cd src/leitplanke && LEITPLANKE_DATA_DIR=$(CURDIR)/var ../../$(BIN)/python ../../manage.py compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
