# The two set-up commands are `make run` and `make test`; the rest are their parts.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test qa lint types pytest lock bench messages clean deploy-check screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs are stamped by the lock file they come from, so a changed lock reinstalls.
$(VENV)/.base-installed: requirements/base.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/base.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.demo-installed: requirements/demo.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/demo.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.base-installed

$(VENV)/.dev-installed: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.base-installed $(VENV)/.demo-installed

## make run: the portal with demo data at http://localhost:$(PORT)/, on SQLite, gunicorn + whitenoise,
## and the demo identity provider "LuxTrust (démo)" at http://localhost:9400/. Demo mode
## (ESANTE_DEMO=1) with DEBUG off: plain HTTP on loopback, generated secrets, the production
## error pages; DEBUG=1 make run for Django's debug pages.
run: $(VENV)/.demo-installed
	DEBUG=$${DEBUG:-0} ESANTE_DEMO=$${ESANTE_DEMO:-1} $(BIN)/esante serve

## make test: lint, types, the apps' floors (import contracts) and the whole test suite
test: $(VENV)/.dev-installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy src tests bench
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory deploy-check
	$(BIN)/pytest $(PYTEST_ARGS)

## make deploy-check: Django's deployment checks on the production settings (DEBUG off)
deploy-check: $(VENV)/.dev-installed
	env -u DEBUG -u ESANTE_DEMO -u DATABASE_URL -u REDIS_URL \
	  SECRET_KEY=deploy-check-only-$$(printf '%064d' 0 | tr 0 k) ESANTE_CODE_HMAC_KEY=deploy-check \
	  ALLOWED_HOSTS=esante.example ESANTE_VAR_DIR=$$(mktemp -d) \
	  $(BIN)/esante check --deploy --fail-level WARNING

qa: test

## make lock: regenerate both lock files from pyproject.toml
lock: $(VENV)/.dev-installed
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements/base.lock
	$(BIN)/uv pip compile pyproject.toml --extra demo --python-version 3.11 --generate-hashes -q -o requirements/demo.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements/dev.lock

## make messages: extract French source strings into the DE and EN catalogues (and the French
## plural rule: esante french_plurals), then compile
messages: $(VENV)/.dev-installed
	cd src/esante && DEBUG=1 ../../$(BIN)/esante makemessages -l de -l en --no-obsolete --no-location
	DEBUG=1 $(BIN)/esante french_plurals
	cd src/esante && DEBUG=1 ../../$(BIN)/esante compilemessages

## make bench: the benchmarks of bench/ (not part of make test)
bench: $(VENV)/.dev-installed
	$(BIN)/python bench/run.py

## make screenshots: the demo on a phone (390×844) in docs/screenshots/, through Debian's
## chromium: activation step 1, the code page, Mon DSP's documents, the Assistants add row
screenshots: $(VENV)/.dev-installed
	$(BIN)/python docs/screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) var/test-*
