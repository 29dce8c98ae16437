# The two commands:  make run  (serve on SQLite with demo data)  ·  make test  (the whole suite)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: setup run test lint bench scheduler clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/outreach serve --port $(PORT)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check outreach forms letters tests

scheduler: setup
	$(BIN)/outreach scheduler

clean:
	rm -rf $(VENV) build *.egg-info
