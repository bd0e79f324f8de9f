# The two commands: `make run` (sandbox on http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := xmlsec1 chromium prometheus
# libraries have no command to look for: dpkg tells (libsodium23 backs pysodium's ristretto255)
SYSTEM_LIBRARIES := libsodium23
BENCH_SIZE ?= full
# `make drill`: the reliability drills (docs/drills.md) on their own. `make test` runs them at
# the small size; DRILL_SIZE=large puts more load on the failover drill for longer.
DRILL_SIZE ?= small

.PHONY: install system-deps run test lint bench drill clean

install: system-deps $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip==25.3'
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	for lib in $(SYSTEM_LIBRARIES); do dpkg -s $$lib >/dev/null 2>&1 || missing="$$missing $$lib"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; }; \
	  else \
	    echo "missing system packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

run: install
	$(BIN)/gateway demo keys --out instance/demo
	$(BIN)/gateway keys init
	$(BIN)/gateway db upgrade
	$(BIN)/gateway bootstrap deploy/demo-bootstrap.yaml
	$(BIN)/gateway keys pep-issue --issuer-dir instance/pep-issuer
	$(BIN)/gateway run --host 127.0.0.1 --port 8000

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

bench: install
	@if [ "$(BENCH_SIZE)" = tiny ]; then $(BIN)/python bench/run_all.py --tiny; \
	else $(BIN)/python bench/run_all.py; fi

drill: install
	@if [ "$(DRILL_SIZE)" = large ]; then export GATEWAY_DRILL_THREADS=8 GATEWAY_DRILL_SECONDS=20; fi; \
	$(BIN)/python -m pytest tests/reliability -k drill -p no:cacheprovider

clean:
	rm -rf $(VENV) instance/gateway.db* .pytest_cache
