"""Small fake repositories for the builder's unit tests: a reference module, a template and a grading spec."""
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent


@dataclass(frozen=True)
class FakeItem:
    name: str
    points: float
    kind: str = "function"


FAKE_ITEMS = (FakeItem("double", 3), FakeItem("Counter", 4, "class"), FakeItem("experiment", 10, "file"))
FAKE_MANUAL = {"answer_why": 2}

REFERENCE_MODULE = dedent('''\
    """A fake graded module."""
    import numpy as np


    def double(x):
        """Twice x."""
        out = None
        ### BEGIN SOLUTION
        out = 2 * x
        ### END SOLUTION
        return out


    class Counter:
        """Counts."""

        def __init__(self):
            ### BEGIN SOLUTION
            self.count = 0
            ### END SOLUTION

        def add(self):
            ### BEGIN SOLUTION
            self.count += 1
            ### END SOLUTION
            return self.count
    ''')

TEMPLATE = dedent('''\
    # %% [markdown]
    # # Title

    # %% readonly="setup"
    import numpy as np

    # %% solution="reference_impl.fake.double"

    # %% test="double"
    assert double(2) == 4, "double(2) should be 4"
    ### BEGIN HIDDEN TESTS
    assert double(-1) == -2
    ### END HIDDEN TESTS

    # %% solution="reference_impl.fake.Counter"

    # %% test="Counter"
    assert Counter().add() == 1
    ### BEGIN HIDDEN TESTS
    assert Counter().count == 0
    ### END HIDDEN TESTS

    # %% [markdown] answer="answer_why"
    # Because.

    # %% student_code="experiment"
    best = None
    ### BEGIN SOLUTION
    best = 1
    ### END SOLUTION

    # %% test="experiment"
    assert best is not None

    # %%
    print("a plain cell")
    ''')


def write_repo(root: Path, template: str = TEMPLATE, module: str = REFERENCE_MODULE) -> Path:
    """Create reference_impl/fake.py and the template under ``root``; return the template's path."""
    (root / "reference_impl").mkdir(parents=True, exist_ok=True)
    (root / "reference_impl" / "fake.py").write_text(module)
    template_path = root / "templates" / "convnets" / "ConvolutionalNetworks.py"
    template_path.parent.mkdir(parents=True, exist_ok=True)
    template_path.write_text(template)
    return template_path


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    """1-based number of the line holding the ``occurrence``-th match of ``needle`` (computed independently
    of the builder, from the fixture text itself)."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence]
