# Everything a user types: make demo | make test | make source | make release | make grade
# The first target that needs it bootstraps .venv/ (dependencies, compiled Cython extension, Jupyter kernel).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kit-installed
# nbgrader shells out to alembic and executes notebooks with the `python3` kernel: both must be the venv's.
RUN := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" JUPYTER_PATH="$(CURDIR)/$(VENV)/share/jupyter" \
       MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py reference_impl/im2col_cython.pyx
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[course,test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (convnet kit)" >/dev/null
	touch $(STAMP)

## demo: the built-in default, no downloads: train the three-layer net briefly on the tiny data set
##       (plots under out/demo/), then grade the built-in demo class (reports under out/demo_class/grades/)
demo: $(STAMP)
	$(RUN) $(PY) -m reference_impl.demo
	$(RUN) $(PY) -m autograder demo-class

## test: the whole test suite
test: $(STAMP)
	$(RUN) $(PY) -m pytest $(PYTEST_ARGS)

## bench: fast layers against PyTorch CPU (pip install torch==2.13.0): kit/PyTorch time ratios, forward,
##        backward and both, float32 and float64, at 1 and 2 threads, measured side by side; peak memory once
bench: $(STAMP)
	$(RUN) $(PY) bench/bench_layers.py --threads 1 --memory
	$(RUN) $(PY) bench/bench_layers.py --threads 2

clean:
	rm -rf build out reference_impl/*.so reference_impl/im2col_cython.c

## grade: grade submitted/<student>/convnets/ (the built-in demo class when there are none);
##        make grade STUDENT=id regrades one student, make grade JOBS=n sets the parallel processes
.PHONY: grade
grade: $(STAMP)
	$(RUN) $(PY) -m autograder grade $(if $(STUDENT),--student $(STUDENT)) $(if $(JOBS),--jobs $(JOBS))

## source: regenerate source/convnets/ (notebook + shipped convkit/) from templates/ and reference_impl/
## release: nbgrader generate_assignment -> release/convnets/ and release/convnets.zip
.PHONY: source release
source: $(STAMP)
	$(RUN) $(PY) -m notebook_builder source

release: source
	$(RUN) $(PY) -m notebook_builder release
