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
	$(PY) -m pip install --quiet -e '.[course,test,frameworks,student]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (convnet kit)" >/dev/null
	touch $(STAMP)

## demo: the built-in default, no downloads: train the three-layer net briefly on the tiny data set
##       (plots under out/demo/), then grade the built-in demo class, every installed assignment
##       (reports under out/demo_class/grades/); ASSIGNMENT=name grades one assignment
demo: $(STAMP)
	$(RUN) $(PY) -m reference_impl.demo
	$(RUN) $(PY) -m autograder demo-class $(ASSIGNMENT_ARG)

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

# Every course target works on all assignments (assignments/), or on one: make source ASSIGNMENT=convnets
ASSIGNMENT_ARG = $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

## grade: grade submitted/<student>/<assignment>/ for every assignment (an error when there are
##        none after a release; before any release, the built-in demo class); reports under grades/<assignment>/,
##        the class table in grades/grades.csv.
##        make grade STUDENT=id regrades one student, ASSIGNMENT=name one assignment, JOBS=n sets the processes,
##        FORCE=1 regrades everyone; DASK=local grades on a Dask LocalCluster of JOBS processes,
##        DASK=tcp://host:port on a running cluster
.PHONY: grade
grade: $(STAMP)
	$(RUN) $(PY) -m autograder grade $(ASSIGNMENT_ARG) $(if $(STUDENT),--student $(STUDENT)) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(FORCE),--force) $(if $(DASK),--dask $(DASK))

## similarity: grades/<name>/similarity.html and .csv: pairs of submitted/<student>/<name>/ notebooks with
##             similar solution code, for a person to read (make similarity ASSIGNMENT=convnets THRESHOLD=0.6)
.PHONY: similarity
similarity: $(STAMP)
	$(RUN) $(PY) -m autograder.similarity --assignment $(or $(ASSIGNMENT),$(error make similarity needs ASSIGNMENT=<name>)) $(if $(THRESHOLD),--threshold $(THRESHOLD))

## gradescope: dist/gradescope/<ASSIGNMENT>/autograder.zip for Gradescope (setup.sh, run_autograder, the grader);
##             HIDDEN_VISIBILITY=hidden|after_due_date|after_published|visible (default after_published)
.PHONY: gradescope
gradescope: $(STAMP)
	@test -n "$(ASSIGNMENT)" || { echo "make gradescope ASSIGNMENT=<name>"; exit 2; }
	$(RUN) $(PY) -m autograder gradescope --assignment $(ASSIGNMENT) \
		$(if $(HIDDEN_VISIBILITY),--hidden-visibility $(HIDDEN_VISIBILITY))

## source: regenerate source/<assignment>/ (notebook + shipped support package) from templates/ and reference_impl/
## release: nbgrader generate_assignment -> release/<assignment>/ and release/<assignment>.zip
.PHONY: source release
source: $(STAMP)
	$(RUN) $(PY) -m notebook_builder source $(ASSIGNMENT_ARG)

release: source
	$(RUN) $(PY) -m notebook_builder release $(ASSIGNMENT_ARG)
