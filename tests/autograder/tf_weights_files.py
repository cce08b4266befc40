"""The weights files the TensorFlow fixtures carry, made in a subprocess (the test process never imports
TensorFlow): ``python tf_weights_files.py OUT_DIR TINY_DIR``.

- trained.weights.h5: the reference ``build_open_model`` trained with Adam for a few epochs on the tiny set;
- untrained.weights.h5: the same model, never trained;
- keras_model.weights.h5: a whole ``.keras`` model (a zip with its configuration) under the weights file's name;
- legacy_h5_with_code.weights.h5: an HDF5 file with a legacy ``model_config`` attribute whose Lambda layer
  carries marshalled Python code, and one weights array.
"""
import json
import marshal
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

EPOCHS = 5  # the reference passes 70% validation accuracy on the tiny set after 3-5 epochs


def main():
    out, tiny = Path(sys.argv[1]), sys.argv[2]
    out.mkdir(parents=True, exist_ok=True)
    import h5py
    import numpy as np
    import tensorflow as tf

    from reference_impl.frameworks.prep import load_cifar10_for_framework
    from reference_impl.frameworks.tf_open_model import build_open_model
    from reference_impl.tiny_cifar import TINY_SPLIT

    data = load_cifar10_for_framework("NHWC", **TINY_SPLIT, cifar10_dir=tiny)
    tf.keras.utils.set_random_seed(0)
    untrained = build_open_model()
    untrained(data["X_val"][:1])
    untrained.save_weights(str(out / "untrained.weights.h5"))
    model = build_open_model()
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(data["X_train"], data["y_train"], batch_size=64, epochs=EPOCHS,
                        validation_data=(data["X_val"], data["y_val"]), verbose=0)
    model.save_weights(str(out / "trained.weights.h5"))
    model.save(str(out / "model.keras"))
    shutil.copyfile(out / "model.keras", out / "keras_model.weights.h5")
    code = marshal.dumps((lambda x: __import__("os").system("echo owned")).__code__)
    config = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Lambda", "config": {"function": [code.hex(), None, None]}}]}}
    with h5py.File(out / "legacy_h5_with_code.weights.h5", "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.create_dataset("layers/dense/vars/0", data=np.zeros((3, 10), dtype=np.float32))
    print(json.dumps({"val_accuracy": [round(float(a), 4) for a in history.history["val_accuracy"]]}))


if __name__ == "__main__":
    main()
