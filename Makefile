# The two commands: `make run` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The curvature peers of the tests (tests/test_curvature_peers.py), installed without their
# declared dependencies: they would accept any newer torch (a CUDA build, GBs) and BackPACK asks
# for torchvision, whose PyPI build does not load with the CPU torch; what they import is in
# the test extra.
PEERS := curvlinops-for-pytorch==3.0.1 backpack-for-pytorch==1.7.1

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip install --quiet --no-deps $(PEERS)
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/numnet demo --out numnet-out

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet "jax[cpu]" || echo "jax did not install; benchmarks skip it"
	$(BIN)/python benchmarks/run.py

# The documentation site (docs/, Sphinx): warnings are errors. Output in docs/_build/html.
$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@ $(VENV)/.installed-run

docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) numnet-out build src/*.egg-info docs/_build docs/api docs/auto_examples docs/sg_execution_times.rst
