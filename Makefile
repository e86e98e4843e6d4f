# gongkai: build, run and test.
#
#   make venv    .venv with the project (editable) and its test extras, pinned by constraints.txt
#   make run     initialise instance/, load the demo data once, make the organisations' signing
#                keys, serve on $HOST:$PORT (default 127.0.0.1:5000)
#   make test    ruff, the suite on SQLite and on a throwaway PostgreSQL 15, a date sweep on both
#   make bench   install the bench extra (the peers), run bench/bench_*.py, write the
#                table in bench/README.md from their figures (bench/report.py)
#   make screenshots  rewrite docs/screenshots/ (every page kind, phone and desk)
#   make lint    ruff check
#   make lock    rewrite constraints.txt from what is installed in .venv
#   make system  install the Debian packages the service needs, if missing and root
#   make clean   remove .venv, instance/ and caches

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV   := .venv
PYTHON := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
PYTEST := $(VENV)/bin/pytest -n 2 --dist worksteal -q

.PHONY: venv system system-test run test bench lint lock clean screenshots

venv: $(STAMP)

# Re-runs only when pyproject.toml or constraints.txt changed (or .venv is new).
$(STAMP): pyproject.toml constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PIP) install -c constraints.txt -e '.[test]'
	touch $@

# Debian packages the service and the tests use: CJK fonts (pages, screenshots, PDFs),
# graphviz (process diagrams) and, for the browser tests, chromium. Installed when
# missing and we are root; otherwise only noted.
RUN_PACKAGES  := fonts-noto-cjk graphviz
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils redis-server

system:
	scripts/apt-ensure.sh $(RUN_PACKAGES)

system-test:
	scripts/apt-ensure.sh $(TEST_PACKAGES)

# HOST and PORT come from the environment or the command line (make run PORT=8080).
HOST ?= 127.0.0.1
PORT ?= 5000

# `audit keygen` gives every organisation without one a checkpoint key (none on a rerun), so
# the clock's checkpoints are signed from the start (AU3).
run: venv system
	$(VENV)/bin/gongkai init
	$(VENV)/bin/gongkai demo --if-empty
	$(VENV)/bin/gongkai audit keygen
	$(VENV)/bin/gongkai serve --host '$(HOST)' --port '$(PORT)'

# The date sweep (issue 12): the whole suite runs once on SQLite at the real clock and
# once on PostgreSQL with the clock at the last half hour of a year in Beijing; the tests
# marked `dates` (calendar, deadlines, timers, tracking, board, documents, demo, the
# processes' periods) run again at each day of the sweep, the days shared between the two
# databases so that every day is swept once and make test stays under 20 minutes on two
# cores. tests/conftest.py moves the clock (GONGKAI_TEST_CLOCK, through time-machine).
SHIFTED_DAY  := 2026-12-31T23:30+08:00
SQLITE_DAYS  := 2027-01-04T09:00+08:00 2026-10-01T10:00+08:00
POSTGRES_DAYS := 2026-02-16T10:00+08:00 2028-02-29T10:00+08:00
sweep = for day in $(1); do \
	  echo "== tests marked dates, clock at $$day"; \
	  GONGKAI_TEST_CLOCK=$$day $(PYTEST) -m dates; \
	done

# The PostgreSQL round: scripts/pg-test.sh prints the cluster's URL as its last stdout
# line, scripts/redis-test.sh the URL of a throwaway Redis (the shared rate-limit store,
# for the multi-worker test); the EXIT trap stops both whatever happens, and the recipe
# keeps pytest's exit status.
test: venv system-test
	$(VENV)/bin/ruff check .
	env -u GONGKAI_TEST_DATABASE_URL -u GONGKAI_TEST_REDIS_URL -u GONGKAI_TEST_CLOCK $(PYTEST)
	unset GONGKAI_TEST_DATABASE_URL GONGKAI_TEST_REDIS_URL; \
	$(call sweep,$(SQLITE_DAYS))
	trap 'scripts/redis-test.sh stop || true; scripts/pg-test.sh stop' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	url=$$(scripts/pg-test.sh start | tail -n 1); \
	redis=$$(scripts/redis-test.sh start | tail -n 1); \
	echo "PostgreSQL test database: $$url, Redis: $$redis, clock at $(SHIFTED_DAY)"; \
	export GONGKAI_TEST_DATABASE_URL="$$url" GONGKAI_TEST_REDIS_URL="$$redis"; \
	GONGKAI_TEST_CLOCK=$(SHIFTED_DAY) $(PYTEST); \
	$(call sweep,$(POSTGRES_DAYS))

screenshots: venv system-test
	scripts/screenshots.sh $(PYTHON)

bench: venv
	$(PIP) install --quiet -c constraints.txt -e '.[test,bench]'
	$(PYTHON) bench/report.py run

lint: venv
	$(VENV)/bin/ruff check .

# Pins everything installed in .venv except the project itself.
lock: venv
	$(PIP) freeze --exclude-editable | grep -viE '^gongkai([=@ ]|$$)' > constraints.txt.new
	mv constraints.txt.new constraints.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis build bench/out *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
