# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint browser bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/portal-widgets demo
	$(BIN)/portal-widgets serve --dev

# Debian's chromium for the browser tests (Playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

lint: $(STAMP)
	$(BIN)/ruff check service tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile

# The whole suite on one redis-server, then the counting, polls, hotlines, groups and merge
# tests again on a local 3-master Redis Cluster (the fixtures start and stop it): a group's
# roll-up and a merge cross slots.
test: $(STAMP) browser lint
	$(BIN)/pytest
	$(BIN)/pytest --redis-cluster tests/test_visits.py tests/test_api_counting.py \
	  tests/test_polls.py tests/test_hotlines.py tests/test_groups.py tests/test_merges.py \
	  tests/test_merge_pages.py

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q wrk; \
	  else echo "make bench needs wrk: sudo apt-get install wrk" >&2; exit 1; fi; }
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
