"""The rules a case of a framework assignment exercises, derived from its configuration (the default
``properties`` of the PyTorch and TensorFlow case packages; see ``autograder.cases.properties``).

A rule is something a correct answer must get right that the data alone does not show: what a case checks
(``check``), a freshly built model's initialisation (``fresh``), images or kernels that are not square, a
# batch of one,
and the rank of a batch to flatten (rank 2 is left as it is). Hidden cases may only vary the data of rules
some visible case shows (tests/autograder/cases/test_case_properties.py).
"""
from __future__ import annotations


def properties(case) -> set[str]:
    """The rules ``case`` exercises (strings, compared across the cases of one item)."""
    config = case.config
    found = set()
    if "check" in config:
        found.add(f"checks {config['check']}")
    if config.get("fresh"):
        found.add("fresh model: initialisation")
    height_width = config.get("image_hw") or ((config["H"], config["W"]) if "H" in config and "W" in config else None)
    if height_width is not None and height_width[0] != height_width[1]:
        found.add("non-square images")
    if any(k[0] != k[1] for k in (config.get("kernel_1", (1, 1)), config.get("kernel_2", (1, 1)))):
        found.add("non-square kernels")
    batch = config.get("N", config.get("batch"))
    if case.item == "flatten":
        found.add(f"rank {len(config['shape'])} batch")
        batch = config["shape"][0]
    if batch == 1:
        found.add("batch of 1")
    return found
