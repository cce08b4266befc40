"""Run every case of the TensorFlow assignment in this process against one namespace; print a JSON report.

Usage: python run_cases_in_tf.py reference|stub WEIGHTS_FILE TINY_DIR. Run as a subprocess by the tests, so
that the pytest process never imports TensorFlow (the grader's parent must not, and a test checks that).
"""
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import assignments  # noqa: E402
from autograder.cases import cases_for  # noqa: E402
from autograder.cases.in_process import run_case  # noqa: E402
from autograder.settings import GradingSettings  # noqa: E402
from reference_impl.frameworks import tf_barebones, tf_keras_models, tf_open_model, tf_training  # noqa: E402


def namespace(kind):
    space = {"np": np, "tf": tf, "open_model_predictions": tf_training.open_model_predictions}
    record = assignments.get("tensorflow")
    for module in (tf_barebones, tf_keras_models, tf_open_model):
        for item in record.graded_items:
            if hasattr(module, item.name):
                space[item.name] = getattr(module, item.name)
    if kind == "stub":
        def stub(*args, **kwargs):
            raise NotImplementedError()
        for item in record.graded_items:
            if item.name in space:
                space[item.name] = stub
    return space


def main():
    kind, weights, tiny = sys.argv[1], sys.argv[2], sys.argv[3]
    record = assignments.get("tensorflow")
    settings = GradingSettings(assignment="tensorflow", heldout_dir=tiny, heldout_num_training=1350,
                               heldout_num_validation=150)
    space = namespace(kind)
    report = []
    for item in record.graded_items:
        for case in cases_for(record, item.name):
            ok, why = run_case(record, case, space, 0, settings, Path(weights) if item.file else None)
            report.append({"item": item.name, "case": case.name, "ok": ok, "why": why})
    print("REPORT " + json.dumps(report))


if __name__ == "__main__":
    main()
