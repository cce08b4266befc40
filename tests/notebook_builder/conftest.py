"""Fixtures of the builder's unit tests; the fake repository itself is described in builder_fixtures.py."""
import pytest

from builder_fixtures import write_repo


@pytest.fixture
def fake_repo(tmp_path):
    """A directory with reference_impl/fake.py and templates/convnets/ConvolutionalNetworks.py."""
    write_repo(tmp_path)
    return tmp_path
