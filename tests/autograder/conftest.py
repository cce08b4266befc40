"""Makes the shared test helpers of tests/autograder/ (stub_engine, fixture_builder, course_fixtures)
importable from the test folders that mirror the autograder's subpackages."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
