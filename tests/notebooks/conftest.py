"""Session fixtures of the notebook tests: the tiny CIFAR-10 stand-in and one generated release course."""
import shutil

import pytest

from notebook_fixtures import REPO, grading_env, nbgrader


@pytest.fixture(scope="session")
def tiny_cifar(tmp_path_factory):
    from reference_impl.tiny_cifar import make_tiny_cifar10
    folder = tmp_path_factory.mktemp("tiny_cifar")
    make_tiny_cifar10(folder)
    return folder


@pytest.fixture(scope="session")
def env(tiny_cifar):
    return grading_env(tiny_cifar)


@pytest.fixture(scope="session")
def course(tmp_path_factory, env):
    """A course folder holding the committed source/convnets, after `nbgrader generate_assignment`."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO / "source" / "convnets", root / "source" / "convnets",
                    ignore=shutil.ignore_patterns("*.so", "*.c", "build", "__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", root)
    result = nbgrader(["generate_assignment", "convnets", "--force", f"--CourseDirectory.root={root}"], root, env)
    assert result.returncode == 0, result.stdout + result.stderr
    return root
