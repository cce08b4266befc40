"""Saving and loading the open-ended PyTorch model's trained weights safely, and its predictions.

Provided code (shipped to students, used by the grading worker); the graded builder is in torch_open_model.

Grading contract (the notebook states the same in words):

1. The student's ``build_open_model()`` takes no arguments and returns an ``nn.Module`` that maps a float32
   batch (N, 3, 32, 32), normalised per channel exactly as ``torch_data.load_cifar10_torch`` does with its
   default split (statistics of the first 49,000 training images), to scores (N, 10).
2. After training, the notebook saves ``model.state_dict()`` with ``torch.save`` to ``OPEN_MODEL_FILE`` next to
   the notebook; the student submits that file with the notebook.
3. A grading worker runs the notebook's setup and the student's ``build_open_model`` cell (nothing else: the
   training cell never runs during grading), rebuilds the model, loads the file with ``load_open_model``
   (``torch.load(..., weights_only=True)``: tensors only, a file with pickled code is refused; strict key and
   shape match), and returns ``predict_scores`` on held-out images the parent gives it as a float32 ``.npy``
   array: float64 scores (N, 10).
4. The parent alone holds the labels: it checks the scores' shape and finiteness, takes the argmax and
   measures the accuracy.
"""
import math

import numpy as np
import torch
import torch.nn as nn

from .torch_data import DTYPE

OPEN_MODEL_FILE = "open_model.pt"  # next to the notebook; the only non-notebook file the grader reads


def save_open_model(model, path=OPEN_MODEL_FILE):
    """Save a model's weights (its ``state_dict``: tensors only, no code) with ``torch.save``.

    Inputs: model, an nn.Module; path, where to write (``OPEN_MODEL_FILE`` by default).
    Returns: the path written. The tensors are copied to the CPU first, so the file loads without a GPU.
    """
    state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    torch.save(state, path)
    return path


def load_open_model(build_model, path=OPEN_MODEL_FILE):
    """Rebuild the open-ended model and load saved weights into it, refusing anything but tensors.

    Inputs: build_model, the zero-argument builder (the student's ``build_open_model``); path of a file
    written by ``save_open_model``.
    Returns: the model in eval mode on the CPU, with the saved weights.
    Raises: pickle.UnpicklingError (from ``torch.load(weights_only=True)``) for a file holding anything other
    than tensors and plain containers, such as pickled code; ValueError when the file is not a mapping of
    names to tensors; RuntimeError (from ``load_state_dict(strict=True)``) for missing, unexpected or
    wrongly shaped entries; TypeError when the builder does not return an nn.Module.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise ValueError(f"{path} does not hold a state dict (a mapping of parameter names to tensors)")
    model = build_model()
    if not isinstance(model, nn.Module):
        raise TypeError(f"the model builder returned {type(model).__name__}, not a torch.nn.Module")
    model.load_state_dict(state, strict=True)
    return model.eval()


def predict_scores(model, images, batch_size=500):
    """Scores of a model on a batch of images, as NumPy float64 (what a grading worker writes out).

    Inputs: model, an nn.Module (evaluated in eval mode on the CPU); images (N, 3, H, W) float array;
    batch_size, images per forward pass.
    Returns: ndarray float64 (N, num_classes).
    """
    model.eval()
    images = np.asarray(images, dtype=np.float32)
    chunks = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            batch = torch.from_numpy(images[start:start + batch_size]).to(DTYPE)  # (B, 3, H, W)
            chunks.append(model(batch).double().numpy())  # (B, num_classes)
    if not chunks:
        raise ValueError("predict_scores got no images")
    return np.concatenate(chunks)


def count_parameters(model):
    """Number of trainable scalars in a model (for the notebook's summary; the grader caps it)."""
    return sum(math.prod(p.shape) for p in model.parameters() if p.requires_grad)
