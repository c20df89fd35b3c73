# RegionVisa: `make run` serves the demo; `make test` runs the whole suite.
# Packages are installed with their bytecode compiled: every CLI call and server worker starts
# seconds faster, on machines that set PYTHONDONTWRITEBYTECODE as well.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
RESIDENTS ?= 100000

.PHONY: run test test-sqlite bench lint venv bytecode demo clean-demo

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

# The project's own bytecode, refreshed for changed files only (a no-op when up to date).
bytecode: venv
	@$(BIN)/python -m compileall -q src >/dev/null

demo: bytecode
	$(BIN)/regionvisa demo --residents $(RESIDENTS)

run: demo
	@echo ""
	@echo "Demo log-ins (user / password):"
	@$(BIN)/regionvisa users demo-logins 2>/dev/null || true
	$(BIN)/regionvisa serve --host $(HOST) --port $(PORT)

# System packages (scripts/system-deps), then the suite on SQLite and on a throwaway PostgreSQL
# cluster (scripts/test); REGIONVISA_TEST_DATABASE_URL points it at an existing server instead.
test: bytecode
	PYTHON=$(BIN)/python PYTEST_ARGS="$(PYTEST_ARGS)" scripts/test

# One database only, no system set-up: the quick loop while developing.
test-sqlite: bytecode
	env -u REGIONVISA_TEST_DATABASE_URL $(BIN)/python -m pytest -m "not postgres" $(PYTEST_ARGS)

bench: bytecode
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations || true

clean-demo:
	rm -f var/regionvisa.sqlite3 var/regionvisa.sqlite3-wal var/regionvisa.sqlite3-shm
