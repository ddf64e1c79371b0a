# Two entry points, each self-contained on a fresh Python 3.11 machine:
#   make train   set up .venv and train a leader, printing it next to the exact optimum
#   make test    set up .venv and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch comes from PyTorch's CPU wheel index: from the default index, torch==2.13.0 on Linux is
# the CUDA build with several GB of nvidia-* wheels. For the CUDA build on a GPU machine:
#   make setup TORCH_INDEX=https://download.pytorch.org/whl/cu128
TORCH := torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: train test lint setup clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Bounded: an unreachable index fails within the 10 s timeout (no retries), then the
	# default index.
	$(BIN)/python -m pip install --quiet --timeout 10 --retries 0 \
		--index-url $(TORCH_INDEX) "$(TORCH)" \
	|| { echo "no $(TORCH) from $(TORCH_INDEX): trying the default index"; \
		$(BIN)/python -m pip install --quiet "$(TORCH)"; }
	# ray: the sweep's Ray backend, tested by tests/test_benchmark_runner.py.
	$(BIN)/python -m pip install --quiet -e ".[train,test,docs,ray]"
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
