# Two commands on a fresh machine with only python3 and make:
#   make tour   -- create .venv, install, run the end-to-end demonstration
#   make test   -- create .venv, install, run the whole test suite (notebooks included)
#   make fuzz   -- the long fuzz run of issue 13 (FUZZ_CASES cases, at most FUZZ_SECONDS of wall clock)
# Teaching: make html -- execute every notebook and export it, the docs and an index to build/html
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

FUZZ_CASES   ?= 10000
FUZZ_SECONDS ?= 1500
FUZZ_SEED    ?= 0

.PHONY: tour test fuzz bench notebooks html strip-notebooks clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.base: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	touch $@

# torch (optional: its tests skip without it) only from a local CPU wheel, never a multi-GB CUDA build.
$(VENV)/.test: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test,testing,sat]'
	$(PIP) install -q --find-links /opt/wheels 'torch==2.13.0+cpu' 2>/dev/null || echo "torch not installed: torch tests will skip"
	touch $@

$(VENV)/.notebooks: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test,notebooks,sat]'
	touch $@

tour: $(VENV)/.base
	$(PY) -m algorithms
	$(PY) -m reductions tour

test: $(VENV)/.test
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -n 2 --doctest-modules algorithms reductions tests --nbmake notebooks --nbmake-timeout=300

# Every public entry point on hostile input, each case in a child process (2 GiB address space, 10 s timeout);
# exit 1 on any defect, each printed with its one-line reproducer; summary in build/fuzz/summary.json.
fuzz: $(VENV)/.test
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m tests.fuzz --cases $(FUZZ_CASES) --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED)

# Benchmarks run on one BLAS thread so that exact and fast are compared on equal terms.
bench: $(VENV)/.base
	for f in bench/[!_]*.py; do echo "== $$f"; BOUNDED_ENTRIES_MAX_SECONDS=inf OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) $$f || exit 1; done

notebooks: $(VENV)/.notebooks
	$(VENV)/bin/jupyter lab notebooks

# Every notebook executed (timing figures from the committed bench/results/*.json) and exported to HTML with the
# docs and an index page: open build/html/index.html.  The committed notebooks stay without outputs
# (tests/test_notebooks.py fails otherwise; `make strip-notebooks` removes them).
html: $(VENV)/.notebooks
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) notebooks/build_html.py --out build/html

strip-notebooks: $(VENV)/.notebooks
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis build/html
