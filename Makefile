# The two commands a newcomer needs:  `make run`  and  `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test test-all test-reliability install system-deps lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Start the service on the embedded SQLite database (./zhangben.db), with the demo ledger.
run: install
	$(BIN)/zhangben serve --demo

## What the suite needs from the system: PostgreSQL server binaries (the suite starts its own
## throwaway cluster), the PHP CLI (the signature is cross-checked against PHP itself), and
## chromium with a CJK font for the console's browser tests (Playwright drives Debian's
## chromium; its own browser download is not used).
system-deps:
	@need=""; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || need="$$need postgresql"; \
	command -v php >/dev/null || need="$$need php-cli"; \
	[ -x /usr/bin/chromium ] || need="$$need chromium"; \
	dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || need="$$need fonts-wqy-microhei"; \
	if [ -n "$$need" ]; then echo "installing:$$need"; apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; fi

lint: install
	$(BIN)/ruff check zhangben tests bench
	$(BIN)/lint-imports

## Everything: lint, layer rules, and the whole suite on SQLite and PostgreSQL. The suite
## includes the short reliability run (tests/reliability: kill -9, PostgreSQL stopped under
## load, a login burst, body limits, a log scan; a few minutes on 2 cores).
test: install system-deps lint
	@# bytecode for every module now: the suite starts ~300 CLI and server processes, and where
	@# PYTHONDONTWRITEBYTECODE is set each of them would compile the package from source again
	$(BIN)/python -m compileall -q zhangben tests bench >/dev/null
	$(BIN)/pytest

## Every test on both databases, the surfaces' tests too (`make test` runs those on SQLite
## alone: tests/README.md, "Which tests run on PostgreSQL").
test-all: install system-deps
	$(BIN)/python -m compileall -q zhangben tests bench >/dev/null
	ZHANGBEN_TEST_BACKENDS=all $(BIN)/pytest

## The full reliability run (the nightly one: more kills, restarts and bursts, the hostile bill
## corpus at full size, 400 fuzz examples per test, 50 per API operation), then its figures written into
## docs/reliability.md.
RELIABILITY_RESULTS ?= $(or $(TMPDIR),/tmp)/zhangben-reliability.jsonl
test-reliability: install system-deps
	rm -f $(RELIABILITY_RESULTS)
	ZHANGBEN_RELIABILITY=full ZHANGBEN_RELIABILITY_RESULTS=$(RELIABILITY_RESULTS) \
		$(BIN)/pytest tests/reliability
	ZHANGBEN_RELIABILITY=full $(BIN)/pytest -m reliability tests/imports
	ZHANGBEN_FUZZ_EXAMPLES=400 $(BIN)/pytest tests/shopex/test_http_fuzz.py tests/yichuan/test_http_fuzz.py
	ZHANGBEN_SCHEMA_EXAMPLES=50 $(BIN)/pytest tests/api/test_http_schemathesis.py
	$(BIN)/python -m tests.reliability.report $(RELIABILITY_RESULTS) docs/reliability.md

format: install
	$(BIN)/ruff format zhangben tests bench
	$(BIN)/ruff check --fix zhangben tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
