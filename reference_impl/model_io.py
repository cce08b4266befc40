"""Saving a trained model's parameters for the autograder, and reading them back, without pickle.

The file is a plain ``.npz``: one array per parameter (``params/<name>``) plus ``__config__``, a JSON string
naming the model class and the keyword arguments that rebuild it. ``np.load(allow_pickle=False)`` reads it, so
opening a submitted file can never run code.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

# Model classes the autograder knows how to rebuild; it constructs the reference class with the saved kwargs.
SUPPORTED_MODELS = ("ThreeLayerConvNet",)
CONFIG_KEY = "__config__"
PARAM_PREFIX = "params/"
FORMAT_VERSION = 1


def _to_json(value, key):
    """JSON form of one keyword argument; dtypes and tuples are tagged or flattened so they survive."""
    if isinstance(value, (np.dtype, type)) and np.dtype(value).kind in "biufc":
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_to_json(v, key) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"model keyword argument {key!r}={value!r} ({type(value).__name__}) cannot be saved; "
                    f"use numbers, strings, booleans, lists/tuples of those, or a numpy dtype")


def _from_json(value):
    if isinstance(value, dict) and set(value) == {"__dtype__"}:
        return np.dtype(value["__dtype__"])
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)  # input_dim and friends were tuples
    return value


def save_experiment_model(path, model, model_name="ThreeLayerConvNet", **model_kwargs):
    """Write a model's parameters and the arguments that rebuild it to an ``.npz`` file.

    Parameters
    ----------
    path : str or path-like
        Destination, normally ``experiment_model.npz`` next to the notebook. Written atomically.
    model : object with a ``params`` dict
        ``params`` maps names (e.g. 'W1', 'b1') to numeric ndarrays of any shape.
    model_name : str
        Class to rebuild; one of SUPPORTED_MODELS.
    **model_kwargs
        Constructor arguments, e.g. ``num_filters=32, filter_size=7, hidden_dim=100, dtype=np.float32``.
        ``model_name(**model_kwargs)`` must create parameters of the shapes saved here.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        Unsupported model name, empty or badly named params, or a non-numeric parameter array.
    TypeError
        ``model.params`` is not a dict, or a keyword argument cannot be represented in JSON.
    """
    if model_name not in SUPPORTED_MODELS:
        raise ValueError(f"model_name {model_name!r} is not supported; the autograder can rebuild: "
                         f"{', '.join(SUPPORTED_MODELS)}")
    params = getattr(model, "params", None)
    if not isinstance(params, dict):
        raise TypeError(f"model.params must be a dict of arrays, got {type(params).__name__}")
    if not params:
        raise ValueError("model.params is empty: nothing to save")
    arrays = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"parameter name {name!r} must be a non-empty string without '/'")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"parameter {name!r} has dtype {array.dtype}; only numeric arrays can be saved")
        arrays[PARAM_PREFIX + name] = array
    config = {"format": FORMAT_VERSION, "model_name": model_name,
              "kwargs": {key: _to_json(value, key) for key, value in sorted(model_kwargs.items())}}
    arrays[CONFIG_KEY] = np.array(json.dumps(config, sort_keys=True))  # 0-d unicode array, no pickle needed
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        np.savez(handle, **arrays)
    os.replace(partial, path)
    return path


def load_experiment_model(path):
    """Read a file written by save_experiment_model.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    model_name : str
    kwargs : dict
        Constructor arguments; JSON lists come back as tuples and dtypes as ``numpy.dtype``.
    params : dict of str to ndarray

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        The file is not a readable ``.npz`` of this format (corrupt, pickled objects, no or bad config,
        unsupported model, no parameters).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}; run the notebook cell that calls "
                                f"save_experiment_model first")
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable .npz model file ({type(error).__name__}: {error})") from None
    if CONFIG_KEY not in contents:
        raise ValueError(f"{path} has no {CONFIG_KEY!r} entry; was it written by save_experiment_model?")
    try:
        config = json.loads(str(contents.pop(CONFIG_KEY)))
        model_name, raw_kwargs = config["model_name"], config["kwargs"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: unreadable model configuration ({type(error).__name__}: {error})") from None
    if model_name not in SUPPORTED_MODELS or not isinstance(raw_kwargs, dict):
        raise ValueError(f"{path}: model {model_name!r} is not supported (supported: {', '.join(SUPPORTED_MODELS)})")
    unexpected = sorted(key for key in contents if not key.startswith(PARAM_PREFIX))
    if unexpected:
        raise ValueError(f"{path}: unexpected entries {unexpected}")
    params = {key[len(PARAM_PREFIX):]: value for key, value in contents.items()}
    if not params:
        raise ValueError(f"{path} holds no parameters")
    return model_name, {key: _from_json(value) for key, value in raw_kwargs.items()}, params
