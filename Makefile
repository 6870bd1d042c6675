# The commands a newcomer runs: make demo, make test, make lint, make bench.
# Everything runs from .venv, built from pyproject.toml pinned by constraints.txt.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# $(call header,TEXT): a visible marker before each step.
header = @printf '\n==> %s\n' '$(1)'

# $(call pytest_tier,DIR,EMPTY_OK): run one test tier. pytest exits 5 when it
# collects nothing. With EMPTY_OK=yes a DIR holding no test files yet is not run at
# all (so the last pytest summary printed is one that ran tests); a DIR with test
# files whose run collects nothing still fails, as does an empty tests/unit.
define pytest_tier
	$(call header,pytest $(1) -q)
	@if [ "$(2)" = yes ] && { [ ! -d $(1) ] || [ -z "$$(find $(1) -name 'test_*.py' -o -name '*_test.py' | head -n 1)" ]; }; then \
	  echo "$(1) has no tests yet: step skipped"; exit 0; \
	fi; \
	status=0; $(BIN)/python -m pytest $(1) -q || status=$$?; \
	if [ $$status -ne 0 ]; then echo "FAILED: pytest $(1) (exit $$status)"; fi; \
	exit $$status
endef

.PHONY: help install demo test test-long lint audit bench constraints clean

help:
	@echo "make install      create .venv and install Head Start with its dev tools (pinned)"
	@echo "make demo         run the demo"
	@echo "make test         unit, then integration, then e2e tests"
	@echo "make test-long    the long variants of the reliability suite (CI runs them too)"
	@echo "make lint         ruff, ruff format --check, mypy (domain, services), import-linter"
	@echo "make bench        run every bench/*.py"
	@echo "make constraints  re-pin constraints.txt from a fresh throwaway venv"
	@echo "make clean        remove .venv, caches and build artifacts"

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(call header,install into $(VENV))
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

demo: install
	$(call header,headstart demo)
	$(BIN)/headstart demo

test: install
	$(call pytest_tier,tests/unit,no)
	$(call pytest_tier,tests/integration,yes)
	$(call header,chromium for the browser tests)
	@# Playwright cannot download a browser here: the e2e tier drives Debian's chromium.
	@if [ -x /usr/bin/chromium ]; then echo "/usr/bin/chromium is installed"; else \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$sudo apt-get install -y chromium || { $$sudo apt-get update && $$sudo apt-get install -y chromium; }; \
	fi
	$(call pytest_tier,tests/e2e,yes)

# The long variants (tests marked long, which make test leaves out): twenty server
# kills per engine, hundreds of model-based runs, schemathesis's long hunt. ~35 min.
test-long: install
	$(call header,pytest --long: the long variants)
	@# -s: the long tests print the figures RELIABILITY.md quotes.
	$(BIN)/python -m pytest tests/unit tests/integration tests/e2e --long -q -s

lint: install
	$(call header,ruff check)
	$(BIN)/ruff check .
	$(call header,ruff format --check)
	$(BIN)/ruff format --check .
	$(call header,mypy src/headstart/domain src/headstart/services)
	$(BIN)/mypy src/headstart/domain src/headstart/services
	$(call header,lint-imports)
	$(BIN)/lint-imports

audit: install
	$(call header,pip-audit: known vulnerabilities in constraints.txt)
	$(BIN)/python .ci/audit.py

bench: install
	$(call header,bench)
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "there are no benchmarks (bench/*.py) yet"; exit 0; fi; \
	for script in "$${scripts[@]}"; do \
	  printf '\n==> %s\n' "$$script"; $(BIN)/python "$$script"; \
	done

# Re-pin: install the project unpinned into a throwaway venv and freeze it.
constraints:
	$(call header,re-pin constraints.txt)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install --quiet -e '.[dev]'; \
	{ echo "# Exact pins for a reproducible install: pip install -c constraints.txt -e '.[dev]'"; \
	  echo "# Regenerate with: make constraints (fresh throwaway venv, pip install -e '.[dev]', pip freeze --exclude-editable)"; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; } > constraints.txt
	@echo "constraints.txt updated"

clean:
	$(call header,clean)
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
	find . -path ./.git -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune \
	  -exec rm -rf {} +
