# RegionVisa: `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
RESIDENTS ?= 100000

.PHONY: run test bench lint venv demo clean-demo

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/regionvisa demo --residents $(RESIDENTS)

run: demo
	@echo ""
	@echo "Demo log-ins (user / password):"
	@$(BIN)/regionvisa users demo-logins 2>/dev/null || true
	$(BIN)/regionvisa serve --host $(HOST) --port $(PORT)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations || true

clean-demo:
	rm -f var/regionvisa.sqlite3 var/regionvisa.sqlite3-wal var/regionvisa.sqlite3-shm
