# Q&Aid: two commands on a fresh clone — `make run` and `make test`.
# Everything else here is what those two need; each step runs only when its inputs changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

RASA_VENV   := .venv-rasa
MODELS_VENV := .venv-models
RASA_PY     := $(RASA_VENV)/bin/python
MODELS_PY   := $(MODELS_VENV)/bin/python
RASA        := $(RASA_VENV)/bin/rasa
SPACY_DIR   := build/spacy_qaid
RASA_MODEL  := models/qaid.tar.gz
PIP_FLAGS   := --disable-pip-version-check --no-input
# Unit tests mirror the packages they test, each run by the interpreter that imports that package.
MODEL_SIDE_TESTS := tests/actions tests/hospitals tests/transcripts tests/vision_models
RASA_SIDE_TESTS  := tests/bot tests/channels

# Rasa training data; nlu_data/question_types/ is the question-type component's own corpus (config.yml).
RASA_DATA   := nlu_data/nlu.yml nlu_data/rules.yml nlu_data/stories.yml
RASA_INPUTS := config.yml domain.yml $(shell find nlu_data bot -name '*.yml' -o -name '*.py' 2>/dev/null | sort)

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install run shell bench nlu-report question-types test test-models test-security scale-demo test-rasa test-nlu-cv test-reliability test-e2e test-conversations test-scale test-browser validate test-stories lint lock clean

help:
	@echo "make run               install what is missing, train if needed, start the assistant (web chat + REST)"
	@echo "make test              install what is missing and run every test suite (what CI runs)"
	@echo "make shell             talk to the bot in the terminal (/image PATH attaches an image)"
	@echo "quick checks:"
	@echo "make lint              ruff on the whole tree, mypy on each interpreter's packages"
	@echo "make test-models       tests/actions, hospitals, transcripts, vision_models (Python 3.11)"
	@echo "make test-security     the attacks of SECURITY.md, on both servers"
	@echo "make test-rasa         tests/bot (NLU, CLI, tracker store) and tests/channels (Python 3.10)"
	@echo "make validate          rasa data validate"
	@echo "make test-stories      the test stories against the trained model"
	@echo "make test-reliability  delivery, hospital process and PostgreSQL tests"
	@echo "make test-e2e          one consultation over REST against the real stack"
	@echo "make test-conversations 93 scripted consultations on the real stack, pass rate per property"
	@echo "make test-browser      the web chat in headless Chromium"
	@echo "make scale-demo        2 Rasa replicas + 2 action servers behind HAProxy, Redis locks, PostgreSQL"
	@echo "make test-scale        fault tests on that topology (a replica, an action server, Redis killed)"
	@echo "make test-nlu-cv       5-fold cross-validation of the NLU pipeline (report in results/nlu-cv)"
	@echo "reports (need ../shared/data or DATA=...):"
	@echo "make bench             speed reports (vision, VQA, hospitals, end to end)"
	@echo "make nlu-report        NLU figures on the held-out sets"
	@echo "make question-types    rebuild the question-type corpus from VQA-RAD"
	@echo "maintenance: make install | lock | clean"

# --- environments -----------------------------------------------------------------------------
$(RASA_VENV)/.installed: requirements/rasa.txt requirements/rasa-constraints.txt requirements/rasa-nodeps.txt scripts/find_python.sh
	@py=$$(scripts/find_python.sh 3.10) && { [ -x $(RASA_PY) ] || $$py -m venv $(RASA_VENV); }
	$(RASA_PY) -m pip install $(PIP_FLAGS) -q --upgrade pip==24.0
	@echo "Installing the Rasa environment (Python 3.10); the first time takes a few minutes..."
	$(RASA_PY) -m pip install $(PIP_FLAGS) -r requirements/rasa.txt -c requirements/rasa-constraints.txt
	$(RASA_PY) -m pip install $(PIP_FLAGS) --no-deps -r requirements/rasa-nodeps.txt
	$(RASA_PY) -c "import site; open(site.getsitepackages()[0] + '/qaid.pth', 'w').write('$(CURDIR)\n')"
	@touch $@

$(MODELS_VENV)/.installed: requirements/models.txt requirements/models-constraints.txt scripts/find_python.sh
	@py=$$(scripts/find_python.sh 3.11) && { [ -x $(MODELS_PY) ] || $$py -m venv $(MODELS_VENV); }
	$(MODELS_PY) -m pip install $(PIP_FLAGS) -q --upgrade pip==24.0
	@echo "Installing the model environment (Python 3.11, CPU torch 2.13.0)..."
	$(MODELS_PY) -m pip install $(PIP_FLAGS) -r requirements/models.txt -c requirements/models-constraints.txt
	$(MODELS_PY) -c "import site; open(site.getsitepackages()[0] + '/qaid.pth', 'w').write('$(CURDIR)\n')"
	@touch $@

install: $(RASA_VENV)/.installed $(MODELS_VENV)/.installed

# --- Rasa model ----------------------------------------------------------------------------------
$(SPACY_DIR)/meta.json: $(RASA_VENV)/.installed $(wildcard bot/spacy_pipeline.py bot/patterns/*)
	$(RASA_PY) -m bot.spacy_pipeline build --out $(SPACY_DIR)

$(RASA_MODEL): $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json $(RASA_INPUTS)
	@echo "Training the Rasa model (data or config changed)..."
	$(RASA) train --config config.yml --domain domain.yml --data $(RASA_DATA) --out models --fixed-model-name qaid

# --- the assistant ----------------------------------------------------------------------------------
run: install $(RASA_MODEL)
	$(RASA_PY) -m bot.cli run

shell: install $(RASA_MODEL)
	$(RASA_PY) -m bot.cli shell

# --- tests -----------------------------------------------------------------------------------------
test: install $(RASA_MODEL)
	$(MAKE) --no-print-directory lint test-models test-security test-rasa validate test-stories test-reliability test-e2e test-conversations test-scale test-browser

lint: $(MODELS_VENV)/.installed $(RASA_VENV)/.installed
	$(MODELS_VENV)/bin/ruff check .
	$(MODELS_PY) -m mypy actions hospitals hospital_service transcripts qaid vision_models tests/support/actions.py
	$(RASA_PY) -m mypy bot channels qaid

test-models: $(MODELS_VENV)/.installed
	$(MODELS_PY) -m pytest $(MODEL_SIDE_TESTS) -q

# The attacks of SECURITY.md, each a test: on the action server (file reads through image metadata, erasure
# left-overs) and on the Rasa server's channels (sender ids of other patients, session tokens).
test-security: $(MODELS_VENV)/.installed $(RASA_VENV)/.installed
	$(MODELS_PY) -m pytest tests/security/action_server -q
	$(RASA_PY) -m pytest tests/security/rasa_server -q

test-rasa: $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json
	$(RASA_PY) -m pytest $(RASA_SIDE_TESTS) -q

validate: $(RASA_VENV)/.installed
	$(RASA) data validate --config config.yml --domain domain.yml --data $(RASA_DATA) --fail-on-warnings

test-stories: $(RASA_MODEL)
	$(RASA) test core --model $(RASA_MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results/core

# 5-fold cross-validation of config.yml's NLU pipeline on the NLU training data (report: results/nlu-cv/). It trains
# five models (32 minutes on the 2-core machine, 2026-12-02), so it is a report of its own, not part of `make test`.
test-nlu-cv: $(RASA_VENV)/.installed $(SPACY_DIR)/meta.json
	$(RASA_PY) bench/nlu_report.py --sections cross_validation --out results/nlu-cv

test-reliability: $(MODELS_VENV)/.installed
	$(MODELS_PY) -m pytest tests/reliability -q

test-e2e: install $(RASA_MODEL)
	$(MODELS_PY) -m pytest tests/e2e -q

# 93 scripted consultations on the real stack (tests/conversations/*.yml); pass rate per property in
# results/conversations.json.
test-conversations: install $(RASA_MODEL)
	$(MODELS_PY) -m pytest tests/conversations -q

# The scaled topology (bot/scale.py): 2 Rasa replicas and 2 action servers behind HAProxy, Redis lock store,
# PostgreSQL tracker store and outbox. Installs the Debian servers it needs.
scale-demo: install $(RASA_MODEL)
	scripts/install_servers.sh
	$(RASA_PY) -m bot.scale --replicas 2 --workers 2

# Fault tests on that topology: a Rasa replica killed mid-conversation, an action server killed during an image,
# Redis restarted: the patient always gets an answer or "please send it again", one transcript arrives.
test-scale: install $(RASA_MODEL)
	scripts/install_servers.sh
	$(MODELS_PY) -m pytest tests/scale -q

test-browser: install
	tests/browser/run.sh

# --- reports (need ../shared/data or a copy: DATA=...) ---------------------------------------------
DATA ?= ../shared/data

bench: install $(RASA_MODEL)
	$(MODELS_PY) bench/bench_vision.py
	$(MODELS_PY) bench/bench_vqa.py
	$(MODELS_PY) bench/bench_hospitals.py
	$(MODELS_PY) bench/bench_e2e.py --runs 20

nlu-report: install $(RASA_MODEL)
	$(RASA_PY) bench/nlu_report.py --data $(DATA) --model $(RASA_MODEL) --out results/nlu

question-types: $(RASA_VENV)/.installed
	$(RASA_PY) scripts/convert_question_types.py --data $(DATA) --out nlu_data/question_types

# --- maintenance -----------------------------------------------------------------------------------
lock: install
	$(RASA_PY) -m pip freeze --exclude-editable > requirements/rasa-constraints.txt
	$(MODELS_PY) -m pip freeze --exclude-editable | sed 's/+cpu//' > requirements/models-constraints.txt

clean:
	rm -rf build models results
