"""GradingSettings: validation and loading from the c.GradingSettings section of nbgrader_config.py."""
from pathlib import Path

import pytest

from autograder.settings import GradingSettings


def _write_config(course: Path, body: str) -> None:
    (course / "nbgrader_config.py").write_text("c = get_config()\n" + body)


def test_options_in_the_config_file_are_applied_and_paths_resolved(tmp_path):
    _write_config(tmp_path, "c.GradingSettings.reveal_hidden = True\n"
                            "c.GradingSettings.test_seconds = 7.5\n"
                            "c.GradingSettings.heldout_dir = 'data/cifar'\n")
    settings = GradingSettings.from_nbgrader_config(tmp_path)
    assert settings.reveal_hidden is True
    assert settings.test_seconds == 7.5
    assert settings.heldout_dir == tmp_path.resolve() / "data" / "cifar"


def test_overrides_win_over_the_file(tmp_path):
    _write_config(tmp_path, "c.GradingSettings.memory_mb = 1024\n")
    assert GradingSettings.from_nbgrader_config(tmp_path, memory_mb=512).memory_mb == 512


def test_no_config_file_gives_the_defaults(tmp_path):
    assert GradingSettings.from_nbgrader_config(tmp_path).test_seconds == GradingSettings().test_seconds


def test_unknown_option_is_named_in_the_error(tmp_path):
    _write_config(tmp_path, "c.GradingSettings.reveal_hiden = True\n")
    with pytest.raises(ValueError, match="reveal_hiden"):
        GradingSettings.from_nbgrader_config(tmp_path)


def test_bad_value_is_rejected(tmp_path):
    _write_config(tmp_path, "c.GradingSettings.test_seconds = -1\n")
    with pytest.raises(ValueError, match="test_seconds"):
        GradingSettings.from_nbgrader_config(tmp_path)


def test_the_course_config_of_this_repository_loads():
    repo = Path(__file__).resolve().parents[2]
    settings = GradingSettings.from_nbgrader_config(repo)
    assert settings.source_notebook == repo / "source" / "convnets" / "ConvolutionalNetworks.ipynb"


@pytest.mark.parametrize("name, bad", [("item_output_mb", 0), ("submission_output_mb", 1.5), ("output_margin", -1),
                                       ("case_output_floor_mb", True)])
def test_output_budgets_must_be_positive(name, bad):
    with pytest.raises(ValueError, match=name):
        GradingSettings(**{name: bad})


def test_a_tests_output_budget_is_a_multiple_of_its_reference_bytes_with_a_floor():
    settings = GradingSettings(output_margin=10.0, case_output_floor_mb=1.0)
    assert settings.case_output_bytes(1000) == 1024 * 1024
    assert settings.case_output_bytes(10 * 1024 * 1024) == 100 * 1024 * 1024
