# warden: `make demo` runs the main job on the local emulator; `make test` runs lint, types and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-out
# The demo's event stream contains one event caused by warden itself (its own PATCH coming back).
DEMO_SELF_OID := 9d2c7e41-5b3a-4f8e-a1c6-7e0b2d9f3a15

.PHONY: install old-sdk demo test lint typecheck unit bench clean

$(VENV)/.installed: requirements.txt requirements-admin.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# checkov in a virtualenv of its own (requirements-infra.txt); tests/infra/test_checkov.py runs it from there.
INFRA_VENV := .venv-infra
$(INFRA_VENV)/.installed: requirements-infra.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INFRA_VENV)/bin/python -m pip install --quiet -r requirements-infra.txt
	touch $@

# The browser tests (tests/browser/) drive Debian's chromium through Playwright (never a browser download).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "tests/browser needs $(CHROMIUM): install Debian's chromium" >&2; exit 1; }
	apt-get update -qq && apt-get install -y -qq chromium

install: $(VENV)/.installed node_modules/.installed $(INFRA_VENV)/.installed $(CHROMIUM)

# An older major of the official client, kept out of the venv, for tests/emulator/test_sdk_versions.py (which runs
# it as PYTHONPATH=$(OLD_SDK)). --no-deps: its dependencies azure-mgmt-core>=1.5, isodate>=0.6.1 and
# typing-extensions>=4.6 come from the venv; azure-common, which it also declares, it never imports.
OLD_SDK_VERSION := 13.7.0
OLD_SDK := .sdk/cognitiveservices-$(OLD_SDK_VERSION)

$(OLD_SDK)/.installed: $(VENV)/.installed
	rm -rf $(OLD_SDK)
	$(BIN)/python -m pip install --quiet --no-deps --target $(OLD_SDK) azure-mgmt-cognitiveservices==$(OLD_SDK_VERSION)
	touch $@

old-sdk: $(OLD_SDK)/.installed

demo: $(VENV)/.installed
	$(BIN)/python -m warden replay \
		--state scenarios/demo/tenant.json \
		--events scenarios/demo/events.json \
		--baseline scenarios/demo/baseline.yaml \
		--self-object-id $(DEMO_SELF_OID) \
		--sweep --out $(DEMO_OUT)
	$(BIN)/python -m warden verify --dir $(DEMO_OUT)/audit

lint: $(VENV)/.installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# Then warden's tests again against an emulator that ignores If-Match, as a service that does not declare it
# may (issue 6): the emulator's own tests choose their If-Match mode themselves, and the property tests (fixed
# examples, tests/property) and the infra checks (tests/infra) gain nothing from a second run, so they run once.
unit: install $(OLD_SDK)/.installed
	$(BIN)/pytest -q
	$(BIN)/pytest -q --if-match=ignored --ignore=tests/emulator --ignore=tests/property --ignore=tests/infra

test: lint typecheck unit

# Benchmarks against the local emulator and Azurite (both started by the benchmark itself): `make bench BENCH_ARGS="--quick"`
# or "--json". It ends with the table of issue 11's goals (bench/goals.py).
bench: $(VENV)/.installed node_modules/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(DEMO_OUT) .warden .mypy_cache .ruff_cache .pytest_cache build dist *.egg-info
