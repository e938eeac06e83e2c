# The two commands of the README: `make demo` and `make test`. Both create or update
# .venv on their own; only Python 3.11+ and make are needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test system-deps lint typecheck bench chaos conformance clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m examples.demo

# System packages of the suite (rabbitmq-server for the broker matrix, chromium for the
# browser tests): installed by the project's own script when missing.
system-deps:
	bash .ci/system-deps.sh

test: $(STAMP) system-deps
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check hatchet_celery tests examples benchmarks
	$(VENV)/bin/ruff format --check hatchet_celery

typecheck: $(STAMP)
	$(VENV)/bin/mypy hatchet_celery

bench: $(STAMP)
	$(PY) -m benchmarks.run

chaos: $(STAMP)
	HATCHET_CELERY_CHAOS_FULL=1 HATCHET_CELERY_CHAOS_REPORT=$(or $(CHAOS_REPORT),chaos-figures.jsonl) $(PY) -m pytest -q tests/chaos

conformance: $(STAMP)
	$(PY) ../shared/conformance/run.py --mirror $(HATCHET_MIRROR) --project . --python $(PY) --folders $(or $(FOLDERS),core)

clean:
	rm -rf $(VENV) .hatchet_celery build *.egg-info
