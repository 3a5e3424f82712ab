# The two commands: `make run` and `make test`. Both create .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench docs mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The curvature peers of the tests (tests/curvature/test_curvature_peers.py), installed without their
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
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
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

# Mutation testing of the derivative core (issue 18; slow, not part of `make test` or CI): mutmut
# mutates the modules listed under [tool.mutmut] in pyproject.toml, runs the registry-driven tests
# that cover each mutated function, and the summary below counts the outcomes per module.
# JOBS sets the number of test processes. A run starts afresh: mutants/ is rebuilt from the
# current src/. It takes hours (about 5,300 mutants; a third of them took an hour on 2 busy cores).
MUTMUT := mutmut==3.8.1
JOBS ?= 2

define MUTATION_SUMMARY
import collections, glob, json
from mutmut.stats import status_by_exit_code
rows = collections.defaultdict(collections.Counter)
for meta in sorted(glob.glob("mutants/src/**/*.py.meta", recursive=True)):
    module = meta[len("mutants/src/"):-len(".py.meta")].replace("/", ".")
    for code in json.load(open(meta))["exit_code_by_key"].values():
        rows[module][status_by_exit_code[code]] += 1
cols = ["killed", "survived", "timeout", "no tests", "not checked"]
print(f"{'module':28}{'mutants':>8}" + "".join(f"{c:>12}" for c in cols) + f"{'kill rate':>11}")
total = collections.Counter()
for module, c in sorted(rows.items()) + [("total", None)]:
    c = total if c is None else c
    if c is not total:
        total.update(c)
    n = sum(c.values())
    tried = n - c["not checked"]
    rate = f"{100 * c['killed'] / tried:.1f}%" if tried else "-"
    if n:
        print(f"{module:28}{n:8}" + "".join(f"{c[k]:12}" for k in cols) + f"{rate:>11}")
endef
export MUTATION_SUMMARY

mutation: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet $(MUTMUT)
	rm -rf mutants
	OMP_NUM_THREADS=1 $(BIN)/mutmut run --max-children $(JOBS)
	@$(BIN)/mutmut results | grep -v ': killed' || true
	@$(BIN)/python -c "$$MUTATION_SUMMARY"

clean:
	rm -rf $(VENV) numnet-out build src/*.egg-info docs/_build docs/api docs/auto_examples docs/sg_execution_times.rst
