# Two entry points for a newcomer: `make verify` and `make test`.
# Each creates .venv with python3 -m venv when missing and installs what it needs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-all
export HYPOTHESIS_PROFILE ?= ci

.PHONY: verify test lint test-cpu test-cudasim bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all]"
	@touch $(STAMP)

verify: $(STAMP)
	$(VENV)/bin/mixlab verify

test: lint test-cpu test-cudasim

# ruff (lint and format) on everything, mypy on the package (settings in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The kernels are compiled once, in one process, before the pytest workers start
# (see mixlab.kernels.warmup: caches filled by several processes can clash).
test-cpu: $(STAMP)
	$(PY) -m mixlab.kernels.warmup
	$(PY) -m pytest -m "not cudasim" -n 2

# The CUDA backend under numba's simulator, in its own process (the variable
# must be set before numba is imported).
test-cudasim: $(STAMP)
	NUMBA_ENABLE_CUDASIM=1 $(PY) -m pytest -m cudasim

bench: $(STAMP)  ## numbers to report: run on an otherwise idle machine
	$(PY) -m bench.mixing

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
