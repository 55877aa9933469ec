# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lock run test test-fast lint browser bench clean image-test

# Installs from the lock file (exact versions, hashes): a fresh clone gets what was tested,
# whatever was released since. `make lock` moves to newer versions within pyproject's ranges.
$(STAMP): pyproject.toml requirements/dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Re-resolves every package to the newest version pyproject.toml allows; run `make test`
# before committing the new lock files.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --extra embedded --extra dev --generate-hashes \
	  --universal --python-version 3.11 --upgrade -q -o requirements/dev.lock
	$(BIN)/uv pip compile pyproject.toml --extra embedded --generate-hashes \
	  --universal --python-version 3.11 -c requirements/dev.lock -q -o requirements/runtime.lock

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
	$(BIN)/kubernetes-validate --strict --quiet deploy/kubernetes/*.yaml

# The whole suite on one redis-server, then the counting, polls, hotlines, sources, reports,
# groups, merge, export/import, ratings, delete and upgrade tests again on a local 3-master
# Redis Cluster (the fixtures start and stop it): a group's roll-up, a merge, an import into
# a site and a purge cross slots. The upgrade tests install v0.1.0 and v0.2.0 from the git
# history into .venv-releases/ once.
test: $(STAMP) browser lint
	$(BIN)/pytest
	$(BIN)/pytest --redis-cluster tests/counting/test_visits.py \
	  tests/counting/test_api_counting.py tests/counting/test_sources.py \
	  tests/counting/test_hit_commands.py tests/polls/test_polls.py \
	  tests/hotlines/test_hotlines.py tests/reports/test_reports.py \
	  tests/provinces/test_groups.py tests/provinces/test_merges.py \
	  tests/provinces/test_merge_pages.py tests/provinces/test_moving.py \
	  tests/provinces/test_deletes.py tests/ratings/test_ratings.py \
	  tests/ratings/test_ratings_admin.py tests/store/test_keys.py tests/store/test_schema.py \
	  tests/store/test_upgrades.py

# While working: everything but the tests marked slow (browser, serve, topologies, scale),
# on one redis-server, without the linters; about a minute on an idle 2-core machine.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q wrk; \
	  else echo "make bench needs wrk: sudo apt-get install wrk" >&2; exit 1; fi; }
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.page_speed

# The image and deploy/compose.yaml under podman (runc), on a Debian base made here with
# debootstrap (cached as localhost/bookworm-python:local); run as root, it installs podman,
# runc and debootstrap with apt-get. deploy/podman/containers.conf is this machine's podman
# setup, passed through CONTAINERS_CONF (nothing system-wide is changed).
image-test: $(STAMP)
	@for tool in podman runc debootstrap; do command -v $$tool >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q podman runc debootstrap; \
	  else echo "make image-test needs root and podman, runc, debootstrap: sudo apt-get install podman runc debootstrap" >&2; exit 1; fi; fi
	CONTAINERS_CONF=$(CURDIR)/deploy/podman/containers.conf $(BIN)/pytest tests/containers

clean:
	rm -rf $(VENV) .venv-releases .pytest_cache .mypy_cache .ruff_cache *.egg-info
