# One command each on a fresh machine: `make run`, `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast lint bench clean models

install: $(STAMP)

# Re-install only when the project metadata changes; torch first, pinned, so
# nothing pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m server.grpc.codegen
	@touch $(STAMP)

run: install
	$(VENV)/bin/ndtwin serve

test: install
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy server utt
	$(PY) -m server.grpc.codegen --check
	$(PY) -m server.grpc.codegen --lint

models: install
	$(VENV)/bin/ndtwin models compile models/sdf --to shacl -o models/shacl

# Each benchmark prints its figures and the in-run baseline; see docs/benchmarks.md.
# Run as modules so bench/http.py and bench/grpc.py never shadow the libraries they name.
BENCHES := compile core store sparql http grpc ingest utt

bench: install
	@for b in $(BENCHES); do echo "== bench/$$b.py"; $(PY) -m bench.$$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
