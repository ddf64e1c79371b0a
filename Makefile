# Two entry points, each self-contained on a fresh Python 3.11 machine:
#   make train   set up .venv and train a leader, printing it next to the exact optimum
#   make test    set up .venv and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: train test lint setup clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[train,test,docs]"
	touch $@

setup: $(BIN)/.installed

train: setup
	# PPO with a centralized critic designs a sequential price mechanism with messages (the
	# paper's PI instance) until it reaches zero welfare loss; about a minute on 2 cores.
	$(BIN)/python baselines/mappo.py --env-id StackelbergZoo/MspmPOMDP-v0 \
		--env-kwargs '{"values": "pi", "n_messages": 2}' --seed 1

test: setup
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest -n 2
	# The site: fails on a broken link, a missing page or an env module that does not import.
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

clean:
	rm -rf $(VENV) build *.egg-info
