"""The similarity tests build small classes from the fixture submissions of tests/autograder/fixtures/."""
import sys
from pathlib import Path

# fixture_builder.py (how fixture folders become notebooks) lives one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
