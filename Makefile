# The two commands: `make run` (sandbox on http://127.0.0.1:$(PORT), 8000 unless PORT= says
# otherwise) and `make test`. `make run` installs only what serving needs; the test tooling
# (the `test` extra, Chromium, Prometheus) comes with `make test`, `lint`, `bench` and `drill`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP := $(VENV)/.installed-test
# Spectral (the API Design Rules linter, tests/e2e/test_api_design_rules.py) from
# package-lock.json into node_modules/ (no install scripts: Spectral needs none, and one of its
# dependencies would phone home from its postinstall)
NODE_STAMP := node_modules/.installed-test
# commands looked for on PATH: xmlsec1 signs and checks SAML; chromium runs the browser tests,
# prometheus checks the alert rules and wrk (4.1, a C load generator) drives bench/bench_wrk.py
# (tests and benchmarks only); npm installs Spectral from package-lock.json (tests only)
SERVE_PACKAGES := xmlsec1
TEST_PACKAGES := chromium prometheus wrk npm
# libraries have no command to look for: dpkg tells (libsodium23 backs pysodium's ristretto255;
# libpangoft2-1.0-0 lays out the text of WeasyPrint's PDFs, the subject report's download)
SERVE_LIBRARIES := libsodium23 libpangoft2-1.0-0
# SoftHSM (a PKCS#11 token for the key-custody tests) has no command of its package's name;
# SimpleSAMLphp 1.19 and the PHP it runs on (php-cli's built-in server, and the modules it
# needs) play the federated sign-in's real IdPs in tests/federation
TEST_LIBRARIES := softhsm2 simplesamlphp php-cli php-xml php-mbstring php-curl php-intl \
	php-sqlite3
# `make run PORT=8080`: the port, and the base URL (the OAuth issuer, the demo's target) with
# it, unless GATEWAY_BASE_URL is set in the environment or on the command line
PORT ?= 8000
GATEWAY_BASE_URL ?= http://127.0.0.1:$(PORT)
GATEWAY := GATEWAY_BASE_URL='$(GATEWAY_BASE_URL)' $(BIN)/gateway
BENCH_SIZE ?= full
# `make drill`: the reliability drills (docs/drills.md) on their own. `make test` runs them at
# the small size; DRILL_SIZE=large puts more load on the failover drill for longer.
DRILL_SIZE ?= small

.PHONY: install install-test system-deps system-deps-test run test lint bench drill clean

install: system-deps $(SERVE_STAMP)

install-test: install system-deps-test $(TEST_STAMP) $(NODE_STAMP)

$(SERVE_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip==25.3'
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(SERVE_STAMP)

$(TEST_STAMP): $(SERVE_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(TEST_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# installs the Debian packages of the commands $(1) and the libraries $(2) that are missing
# (as root; otherwise it names the apt-get line to run)
define apt_install
@missing=""; for p in $(1); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
for lib in $(2); do dpkg -s $$lib >/dev/null 2>&1 || missing="$$missing $$lib"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ]; then \
    echo "installing system packages:$$missing"; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }; \
  else \
    echo "missing system packages; run: sudo apt-get install -y$$missing"; exit 1; \
  fi; \
fi
endef

system-deps:
	$(call apt_install,$(SERVE_PACKAGES),$(SERVE_LIBRARIES))

system-deps-test:
	$(call apt_install,$(TEST_PACKAGES),$(TEST_LIBRARIES))

run: install
	$(GATEWAY) demo keys --out instance/demo
	$(GATEWAY) keys init
	$(GATEWAY) db upgrade
	$(GATEWAY) bootstrap deploy/demo-bootstrap.yaml
	$(GATEWAY) keys pep-issue --issuer-dir instance/pep-issuer
	$(GATEWAY) run --host 127.0.0.1 --port $(PORT)

test: install-test
	GATEWAY_TEST_MIDNIGHT_MARGIN_MINUTES=30 $(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	@if [ "$(BENCH_SIZE)" = tiny ]; then $(BIN)/python bench/run_all.py --tiny; \
	else $(BIN)/python bench/run_all.py; fi

drill: install-test
	@if [ "$(DRILL_SIZE)" = large ]; then export GATEWAY_DRILL_THREADS=8 GATEWAY_DRILL_SECONDS=20; fi; \
	$(BIN)/python -m pytest tests/reliability -k drill -p no:cacheprovider

clean:
	rm -rf $(VENV) instance/gateway.db* .pytest_cache
