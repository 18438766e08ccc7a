# The two commands a newcomer needs: `make run` (demo site + worker) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test venv lint bench

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	bash scripts/run.sh

test: venv
	bash scripts/test.sh

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
