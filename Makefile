# Two commands: `make run` serves the app, `make test` runs every test. Both set everything up.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
REQS := requirements.txt requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQS) 2>/dev/null | sha256sum | cut -c1-16)

.PHONY: run dev test lint setup services-up services-down messages check-schema clean

# run and test start the embedded services while packages install (config/install.py).
run: export CJH_EARLY_SERVICES=1
run: setup
	$(PY) -m config.devserver run

# The same as `make run`, with Django's debug pages (tracebacks, URL patterns): never in production.
dev: export CJH_EARLY_SERVICES=1
dev: setup
	DEBUG=1 $(PY) -m config.devserver run

test: export CJH_EARLY_SERVICES=1
test: setup lint
	$(PY) -m config.devserver test $(ARGS)

lint: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

setup: $(STAMP)

$(STAMP): $(REQS) config/install.py
	$(PYTHON) config/install.py
	@rm -f $(VENV)/.installed-*
	@touch $@

services-up: setup
	$(PY) -m config.devserver up

services-down: setup
	$(PY) -m config.devserver down

messages: setup
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=var --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

check-schema: setup
	$(PY) -m config.devserver prepare
	$(PY) manage.py check_schema

clean: services-down
	rm -rf var/
