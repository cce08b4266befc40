"""Training and evaluation loops of the PyTorch assignment (provided to students, not graded).

Batches come from ``prep.MiniBatches`` (NumPy arrays or CPU tensors); ``torch_data.as_batch`` moves each one
to the compute device just before it is used.
"""
import torch
import torch.nn.functional as F

from .torch_data import as_batch


def check_accuracy(scores_fn, batches, device="cpu"):
    """Fraction of correctly classified images, computed without building an autograd graph.

    Inputs:
    - scores_fn: callable x (B, C, H, W) -> scores (B, num_classes): an ``nn.Module`` (evaluated in eval mode,
      its previous mode restored afterwards) or a function such as ``lambda x: three_layer_convnet(x, params)``.
    - batches: iterable of (x (B, C, H, W), y (B,)) pairs.
    - device: where to compute.
    Returns: accuracy, a float in [0, 1]. Raises ValueError when the batches are empty.
    """
    was_training = isinstance(scores_fn, torch.nn.Module) and scores_fn.training
    if isinstance(scores_fn, torch.nn.Module):
        scores_fn.eval()
    num_correct, num_samples = 0, 0
    try:
        with torch.no_grad():
            for x, y in batches:
                x, y = as_batch(x, y, device)
                predictions = scores_fn(x).argmax(dim=1)  # (B,)
                num_correct += int((predictions == y).sum())
                num_samples += len(y)
    finally:
        if was_training:
            scores_fn.train()
    if num_samples == 0:
        raise ValueError("check_accuracy got no batches")
    return num_correct / num_samples


def train_one_epoch(model_fn, params, step_fn, train_batches, learning_rate, device="cpu", val_batches=None,
                    print_every=100):
    """One pass over the training batches with a barebones step function.

    Inputs:
    - model_fn, params: the network as for ``torch_barebones.three_layer_convnet`` (params updated in place).
    - step_fn: ``train_step``-like callable (model_fn, params, x, y, learning_rate) -> loss (float).
    - train_batches: iterable of (x, y); learning_rate: float; device.
    - val_batches: if given, the validation accuracy is printed every ``print_every`` iterations (0: never).
    Returns: list of the training losses, one per iteration.
    """
    losses = []
    for t, (x, y) in enumerate(train_batches):
        x, y = as_batch(x, y, device)
        losses.append(step_fn(model_fn, params, x, y, learning_rate))
        if print_every and t % print_every == 0:
            message = f"iteration {t}, loss {losses[-1]:.4f}"
            if val_batches is not None:
                accuracy = check_accuracy(lambda images: model_fn(images, params), val_batches, device)
                message += f", validation accuracy {accuracy:.2%}"
            print(message)
    return losses


def train_module(model, optimizer, train_batches, num_epochs=1, device="cpu", val_batches=None,
                 print_every=100):
    """Train an ``nn.Module`` with a ``torch.optim`` optimiser on the mean softmax cross-entropy.

    Inputs:
    - model: nn.Module mapping (B, C, H, W) images to (B, num_classes) scores; moved to ``device``.
    - optimizer: a torch.optim optimiser over ``model.parameters()``.
    - train_batches: re-iterable (x, y) batches (one pass per epoch); num_epochs: positive int; device.
    - val_batches, print_every: progress printing as for ``train_one_epoch``.
    Returns: list of the training losses, one per iteration over all epochs.
    """
    model.to(device)
    losses = []
    for epoch in range(num_epochs):
        model.train()
        for t, (x, y) in enumerate(train_batches):
            x, y = as_batch(x, y, device)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if print_every and t % print_every == 0:
                message = f"epoch {epoch}, iteration {t}, loss {losses[-1]:.4f}"
                if val_batches is not None:
                    message += f", validation accuracy {check_accuracy(model, val_batches, device):.2%}"
                print(message)
    return losses
