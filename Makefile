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

# Benchmarks against a no-framework baseline (docs/performance.md): SQLite always, PostgreSQL when
# OUTREACH_BENCH_DATABASE_URL names a database the bench may drop and re-create.
BENCH_SIZES ?= 1000 10000 100000
bench: setup
	@command -v wrk >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
		&& apt-get install -y -qq wrk >/dev/null 2>&1) || echo "wrk not available: the search benchmark will be skipped"
	BENCH_SIZES="$(BENCH_SIZES)" $(BIN)/python -m bench.run

scheduler: setup
	$(BIN)/outreach scheduler

clean:
	rm -rf $(VENV) build *.egg-info
