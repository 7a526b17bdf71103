# custody — the two commands of the README, and the checks CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint types layers structure wheel-check pytest clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
	  || $(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'  # one retry: a registry hiccup is not a failed build
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/custody demo

test: $(STAMP) lint types layers structure wheel-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

structure: $(STAMP)
	$(PY) tests/check_structure.py

wheel-check: $(STAMP)
	$(PY) tests/check_wheel.py

# The suite runs on every core (pytest-xdist), longest tests first (tests/durations.py);
# PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

clean:
	rm -rf $(VENV) build dist *.egg-info custody-data
