# PayGate: two commands for a newcomer.
#   make demo   creates .venv, installs exactly uv.lock, runs the whole journey on the embedded default
#   make test   creates .venv, installs exactly uv.lock, runs lint, types, import contracts and the tests
#
# uv.lock pins every package and its files' hashes (why uv: see [tool.uv] in
# pyproject.toml). `make lock` brings it in line after pyproject.toml changed, keeping
# every pin it can; `make upgrade` moves every pin to the newest allowed release;
# `make lowest` runs the tests on the oldest releases pyproject.toml allows.

PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.installed
# uv itself, pinned, in a venv of its own: `uv sync` makes .venv exactly the lock,
# so it would remove itself from there.
UV_VERSION := 0.13.10
TOOLS      := .uv
UV         := $(TOOLS)/bin/uv
# Never fetch an interpreter: use $(PYTHON), as the rest of the tool chain does.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

# The dashboard's browser test drives Debian's chromium (Playwright cannot download
# browsers here); installed only when missing (needs root, as in CI).
# Debian's chromium for the dashboard's browser tests (needs root; `make test` skips
# those tests without it, and fails them with CI=true). Playwright drives it.
browsers:
	@which chromium >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends chromium chromium-driver)

.PHONY: browsers demo test lint typecheck contracts pytest format bench reliability lock upgrade lowest clean messages

$(UV):
	$(PYTHON) -c 'import sys; sys.exit("PayGate needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# --locked: install what uv.lock says or fail if pyproject.toml no longer matches it
# (then run `make lock`); never re-resolve silently. The postgres extra is in, since
# the tests run against Postgres too.
$(STAMP): $(UV) uv.lock pyproject.toml sandbox/pyproject.toml
	$(UV) sync --locked --all-extras --python $(PYTHON)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/paygate demo

test: lint typecheck contracts pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The catalogs: extract the marked words (babel.cfg) into the template and merge it
# into each language's .po. The .po files are compiled at load time (see
# adapters/catalog/language.py), so there is no compile step to forget.
LOCALES := adapters/catalog/locales
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k n_:1,2 --no-location --sort-output \
		--project PayGate --add-comments TRANSLATORS: -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -D paygate -i $(LOCALES)/messages.pot -d $(LOCALES) --no-wrap --ignore-obsolete

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python -m bench.$$(basename $$b .py) || exit 1; done

# The reliability battery at full length (tests/reliability): each outage 10 s under
# 30 paying IPNs a second, and a backup under load; every test prints its figures.
# `make test` runs the same tests shorter (PAYGATE_RELIABILITY_SCALE=0.3, the default).
reliability: $(STAMP)
	PAYGATE_RELIABILITY_SCALE=1 $(BIN)/pytest -s -p no:cacheprovider tests/reliability

lock: $(UV)
	$(UV) lock --python $(PYTHON)

upgrade: $(UV)
	$(UV) lock --upgrade --python $(PYTHON)

# The declared minimums are true when the tests pass on them: every direct
# dependency at the lowest version pyproject.toml allows (theirs at the newest that
# fits), in a venv of its own. Lint and type checks are left out: the oldest ruff and
# mypy allowed judge differently, and that is not what the minimums promise.
LOWEST := .venv-lowest
lowest: $(UV)
	rm -rf $(LOWEST)
	$(UV) venv --quiet --python $(PYTHON) $(LOWEST)
	VIRTUAL_ENV=$(LOWEST) $(UV) pip install --quiet --resolution lowest-direct \
		-e '.[postgres]' -e sandbox --group dev
	VIRTUAL_ENV=$(LOWEST) $(UV) pip list --quiet | grep -iE '^(attrs|dependency-injector|sqlalchemy|alembic|aiohttp|python-telegram-bot|redis|cryptography|aiosqlite|asyncpg|prometheus-client|pytest|pytest-asyncio|hypothesis) '
	$(LOWEST)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) $(LOWEST) .mypy_cache .ruff_cache .pytest_cache .hypothesis *.egg-info sandbox/*.egg-info paygate.db
