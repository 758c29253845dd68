# The two commands a newcomer needs: `make run` and `make test`.
# Each one creates (or refreshes, when pyproject.toml changed) the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "talentbot needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --editable '.[dev]'
	@touch $(STAMP)

# With TELEGRAM_BOT_TOKEN (environment or .env) the real bot; without it, the sandbox, on
# port 8080 or on PORT (`make run PORT=9000`).
run: $(STAMP)
	$(VENV)/bin/talentbot start$(if $(PORT), --port $(PORT))

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
