# The verbs of this project. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
BIN    := $(VENV)/bin
RASA   := $(BIN)/rasa
MODEL  := models/current.tar.gz
WEBCHAT_DEPS := webchat/node_modules/.package-lock.json
HAPROXY := /usr/sbin/haproxy
# Everything the trained model depends on: change one and `make train` retrains
# (the intent classifier's own code computes the features it learns from; the
# folders, so that a removed training file counts too).
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' -o -type d) $(wildcard components/*.py)

# Rasa 3.6 runs on Python 3.8-3.10 only. A pyenv shim named python3.10 may exist
# without working, so each candidate is asked to run before it is chosen.
PYTHON310 := $(shell for p in python3.10 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: help venv train widget run run-prod shell test test-unit test-data test-stories test-nlu test-eval test-e2e test-channels test-browser test-bench test-security test-load test-staff staff-user report bench-report eval compare-nlu compare-languages bench profile lock clean

help:
	@echo "make run    - set up if needed, then start the assistant (actions :5055, Rasa :5005, demo page :8080, staff console :8090)"
	@echo "make staff-user - create or update a staff account for the console (asks for a password)"
	@echo "make report - the insights report from the tracker store (writes results/report/index.html and CSV files)"
	@echo "make shell  - talk to the assistant in the terminal (rasa shell)"
	@echo "make test   - every check: unit, data validation, conversation tests, held-out NLU, evaluation bars, end-to-end"
	@echo "make eval   - the independent evaluation against the real servers (writes results/eval.md)"
	@echo "make compare-nlu - train each candidate NLU and score it on the locked half (writes bench/nlu_comparison.md)"
	@echo "make compare-languages - one classifier for both languages or one per language (writes bench/language_comparison.md)"
	@echo "make train  - train the model if data, domain or config changed"
	@echo "make widget - build the one-file chat widget into webchat/dist/ and print its SRI hashes for the embed snippet"
	@echo "make run-prod  - the clinic profile: HAProxy on :5005 in front of RASA_PROCESSES (2) Rasa processes, PostgreSQL + Redis"
	@echo "make test-security - attacks on the running servers: origins, forged and replayed webhooks, floods, personal details, fuzzing"
	@echo "make test-load - load and fault tests through HAProxy (PostgreSQL, Redis, two Rasa processes, one killed, HAProxy reloaded)"
	@echo "make bench  - benchmark against Rasa's default configuration (writes bench/results.md, bench/latency.png)"
	@echo "make bench-report - seeds 100,000 conversations in SQLite and PostgreSQL and times make report (writes bench/report_scale.md)"
	@echo "make profile - where a message's time goes in the Rasa server (writes bench/profile.md)"
	@echo "make lock   - re-pin constraints.txt from the current .venv"

$(VENV)/.installed: requirements.txt constraints.txt
	@if [ -z "$(PYTHON310)" ]; then \
		echo "ERROR: Python 3.10 is required (Rasa 3.6 does not run on 3.11+). Install python3.10 and put it on PATH." >&2; exit 1; fi
	@echo ">> creating $(VENV) with $(PYTHON310) and installing pinned packages (first time: a few minutes)"
	@test -x $(BIN)/python || $(PYTHON310) -m venv $(VENV)
	@$(BIN)/pip install --progress-bar on --upgrade pip==24.0 >/dev/null
	@$(BIN)/pip install --progress-bar on -r requirements.txt -c constraints.txt
	@touch $@

venv: $(VENV)/.installed

$(MODEL): $(VENV)/.installed $(TRAINING_INPUTS)
	@echo ">> training the model (data, domain or config changed)"
	@# --force: Rasa's training cache knows a component's config, not its code, and would
	@# restore an intent classifier trained with the features of its previous version.
	@time $(RASA) train --force --fixed-model-name current --out models

train: $(MODEL)

$(WEBCHAT_DEPS): webchat/package.json webchat/package-lock.json
	@echo ">> installing the chat widget's JavaScript packages (npm ci)"
	@cd webchat && npm ci --no-audit --no-fund

# The embed: widget.js with socket.io-client bundled, and widget.css (webchat/build.mjs).
# Built twice, the second time elsewhere: the same bytes, or the build is not
# reproducible from the lock file and the published SRI hashes would not hold.
widget: $(WEBCHAT_DEPS)
	@echo ">> building the chat widget into webchat/dist/ (esbuild)"
	@node webchat/build.mjs webchat/dist
	@again=$$(mktemp -d) && node webchat/build.mjs $$again >/dev/null \
		&& cmp webchat/dist/widget.js $$again/widget.js && cmp webchat/dist/widget.css $$again/widget.css; \
		status=$$?; rm -rf $$again; [ $$status -eq 0 ] || { echo "ERROR: two builds of the widget differ" >&2; exit 1; }

run: $(MODEL) widget
	@scripts/serve.sh run

# HAProxy from Debian's package (the clinic profile and its load test need it).
$(HAPROXY):
	@echo ">> installing HAProxy (Debian's package)"
	@apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null

# Clinic profile: conversations in PostgreSQL, a Redis lock store, RASA_PROCESSES
# Rasa server processes (default 2, one per core) behind HAProxy on port 5005
# (deploy/haproxy.cfg). One action-server worker is enough: it is idle most of the time.
# The widget's socket.io messages go through Redis, so that a staff reply sent to one
# process reaches a patient whose socket another holds (connectors/widget.py).
run-prod: $(MODEL) widget $(HAPROXY)
	@ENDPOINTS=endpoints.prod.yml ACTION_SERVER_SANIC_WORKERS=$${ACTION_SERVER_SANIC_WORKERS:-1} \
		SOCKETIO_REDIS_URL=$${SOCKETIO_REDIS_URL:-redis://127.0.0.1:6379/1} scripts/serve.sh run-prod

shell: $(MODEL)
	@scripts/serve.sh shell

test: test-unit test-data test-stories test-nlu test-eval test-e2e test-channels test-browser test-bench test-staff test-security
	@echo ">> all checks passed"

test-unit: $(VENV)/.installed
	@echo ">> unit tests: content and actions"
	@$(BIN)/pytest -q tests/unit

test-data: $(VENV)/.installed
	@echo ">> rasa data validate"
	@$(RASA) data validate --fail-on-warnings

test-stories: $(MODEL)
	@echo ">> conversation tests (tests/test_*.yml)"
	@$(RASA) test core --model $(MODEL) --stories tests/ --fail-on-prediction-errors --out results/core

# One held-out set per language: tests/nlu_heldout.yml (English), tests/nlu_heldout_zh.yml (Chinese).
test-nlu: $(MODEL)
	@mkdir -p results
	@for set in tests/nlu_heldout*.yml; do \
		name=$$(basename $$set .yml); \
		echo ">> held-out NLU evaluation ($$set, never trained on)"; \
		$(RASA) test nlu --model $(MODEL) --nlu $$set --out results/$$name >results/$$name.log 2>&1 || { tail -30 results/$$name.log; exit 1; }; \
		$(BIN)/python tests/check_nlu_accuracy.py results/$$name/intent_report.json --min 0.95 || exit 1; \
	done

test-eval: $(MODEL)
	@echo ">> independent evaluation, English and Chinese: locked half, scope, warning signs, context conversations (tests/eval)"
	@$(BIN)/pytest -q tests/eval

# Every set of the independent evaluation, scored on the reply; the report lists each failure.
eval: $(MODEL)
	@$(BIN)/python tests/eval/evaluate.py

compare-nlu: $(VENV)/.installed
	@$(BIN)/python bench/compare_nlu.py

compare-languages: $(VENV)/.installed
	@$(BIN)/python bench/compare_languages.py

test-e2e: $(MODEL)
	@echo ">> end-to-end: real action server + Rasa server over HTTP"
	@$(BIN)/pytest -q tests/e2e

test-channels: $(MODEL)
	@echo ">> messaging channels: clinic connector, Twilio SMS, Telegram against the real servers"
	@$(BIN)/pytest -q tests/channels

test-browser: $(MODEL) widget
	@echo ">> web chat: python-socketio client, the widget in headless Chromium (axe-core audit, keyboard, screen reader, large text, summary, the dist embed), rasa-webchat"
	@$(BIN)/pytest -q -rs tests/browser

# The staff console against the real servers: sign-in, CSRF, the queue, replies on
# each channel, handing back, the report; a patient page and a staff page in Chromium.
test-staff: $(MODEL) widget
	@echo ">> staff console: accounts, sign-in and CSRF, queue, replies over each channel, hand back, report, two pages in Chromium"
	@$(BIN)/pytest -q tests/staff

# STAFF_ENDPOINTS=endpoints.prod.yml for the clinic profile's PostgreSQL.
staff-user: $(VENV)/.installed
	@$(BIN)/python -m staff.accounts $(if $(USER_NAME),--username $(USER_NAME))

report: $(VENV)/.installed
	@$(BIN)/python -m staff.report $(REPORT_ARGS)

bench-report: $(VENV)/.installed
	@$(BIN)/python bench/report_scale.py

test-bench: $(MODEL)
	@echo ">> benchmark smoke run (a few seconds of bench/run.py --smoke)"
	@$(BIN)/pytest -q tests/bench

# PostgreSQL (127.0.0.1:5432, database test) and Redis (127.0.0.1:6379) must be running.
# The fuzz run sends FUZZ_REQUESTS generated requests (2,000 by default, about 20 s).
test-security: $(MODEL)
	@echo ">> security: foreign origins, stale/replayed/forged webhooks, floods, the personal-details corpus, property tests, fuzzing"
	@$(BIN)/pytest -q tests/security

# On demand, not part of `make test`: this project against Rasa's default configuration.
bench: $(MODEL)
	@$(BIN)/python bench/run.py $(BENCH_ARGS)

profile: $(MODEL)
	@$(BIN)/python bench/profile.py

test-load: $(MODEL) $(HAPROXY)
	@echo ">> load and fault tests through HAProxy: 50 REST + 10 socket.io conversations x 20 turns, two Rasa processes, one killed midway, HAProxy reloaded"
	@$(BIN)/pytest -q -s tests/load

lock: $(VENV)/.installed
	@{ echo "# Full pinned set for .venv (pip freeze). Regenerate with: make lock"; $(BIN)/pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf models results .pytest_cache
