# %% [markdown]
# # Convolutional networks in PyTorch
#
# You have written convolutions, pooling and a whole three-layer network by hand in NumPy, including every
# backward pass. Real projects leave that work to a framework: it runs the same operations on a GPU, and its
# automatic differentiation (autograd) derives the backward pass from the forward pass for you. This notebook
# builds the network you already know three times in PyTorch, each time with a higher-level API, and then
# leaves the design to you:
#
# 1. **Preparation**: CIFAR-10 as float32 tensors in (N, C, H, W) layout, and the device to compute on.
# 2. **Barebones PyTorch**: parameters as plain tensors, the forward pass with `torch.nn.functional`,
#    gradients from autograd and an SGD update you write yourself.
# 3. **Module API**: the same network as a subclass of `torch.nn.Module`, trained with `torch.optim`.
# 4. **Sequential API**: the same network as an `nn.Sequential` stack, trained with Nesterov momentum.
# 5. **Open-ended**: your own network, aiming at **70% validation accuracy within 10 epochs**.
#
# **Getting started.** Install the requirements once with `pip install -r requirements.txt` (it pins
# `torch==2.13.0`; on a machine with an NVIDIA GPU install the matching CUDA build of the same version from
# pytorch.org instead). Download CIFAR-10 with `python -m convkit.download`. Everything runs on a CPU; a GPU
# is used automatically when PyTorch can see one.
#
# **How you are graded.** Each function you write has a test cell right after it. Its last line,
# `check("<function>")`, runs the grader's visible cases of that function on your code, here in your kernel,
# and prints for each one what your feedback will say: what was checked, expected and got, and a hint. You can
# call `check` yourself in any cell. The grader also runs hidden cases: the same rules (shapes, batch sizes,
# non-square images, dtypes, fresh-model initialisation) on other data, and it compares your results with the
# course's own NumPy layers, not with anything your code computes. In the barebones part use tensors and
# `torch.nn.functional` only: a barebones function that builds `torch.nn` layers earns nothing, and its
# `check(...)` already fails with the grader's error. Do not rename the functions, change their arguments or
# edit the test cells.
#
# **Grading mode.** When the notebook is graded (or when the environment variable `CONVKIT_SMALL_DATA=1` is
# set) it loads a small slice of the data and skips the long training runs. Keep your code inside the marked
# regions so that this still works.
#
# **Time.** Measured on a 2-core CPU shared with other jobs: one epoch of the barebones network over 1,350
# images took 4 to 9 s, so one epoch over the 49,000 CIFAR-10 training images takes roughly 2.5 to 5.5 minutes
# on such a machine (less on a recent laptop, seconds on a GPU). The reference open-ended model took about
# 30 s per 1,350 images, which extrapolates to about 18 minutes per CIFAR-10 epoch on that CPU: use a GPU (or
# a smaller model) for the open-ended part if you can.

# %% readonly="setup"
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from convkit.frameworks.numpy_net import three_layer_convnet_scores, three_layer_convnet_sgd_step
from convkit.frameworks.prep import MiniBatches
from convkit.frameworks.torch_data import DTYPE, as_batch, choose_device, load_cifar10_torch
from convkit.frameworks.torch_weights import OPEN_MODEL_FILE, load_open_model, predict_scores, save_open_model
from convkit.frameworks.torch_training import check_accuracy, train_module, train_one_epoch
from convkit.gradient_check import rel_error
from convkit.selfcheck import check  # check("flatten"): the grader's visible cases, run on your code

# %matplotlib inline
plt.rcParams["figure.figsize"] = (10.0, 6.0)

# Grading (nbgrader sets NBGRADER_EXECUTION) and quick test runs use a small slice of the data and skip the
# long training cells.
SMALL_DATA = (os.environ.get("CONVKIT_SMALL_DATA") == "1"
              or bool(os.environ.get("NBGRADER_EXECUTION"))
              or bool(os.environ.get("CONVKIT_GRADING")))
# The grader's workers set CONVKIT_GRADING: they skip the demonstration training below (no graded result
# depends on it), so grading time is spent on the graded functions only.
GRADING = bool(os.environ.get("CONVKIT_GRADING"))
device = choose_device(use_gpu=True)  # set use_gpu=False to force the CPU
print_every = 100  # iterations between progress lines while training
print(f"small-data mode: {SMALL_DATA}; PyTorch {torch.__version__}; computing on {device}")

# %% [markdown]
# ## Part 1. Preparation
#
# `load_cifar10_torch` reads the CIFAR-10 batches and keeps 49,000 training images, the next 1,000 as a
# validation set and the 10,000 test images. It subtracts each colour channel's mean over the training set and
# divides by that channel's standard deviation, then returns float32 tensors of shape (N, 3, 32, 32): PyTorch
# puts the channel axis right after the batch axis. Labels are int64, the type `F.cross_entropy` expects.
#
# `MiniBatches` cuts a data set into batches of 64 images (shuffled anew on every pass for training) and
# `as_batch` moves one batch to the device just before it is used, so a GPU never has to hold all of CIFAR-10.

# %% readonly="load_data"
if SMALL_DATA:
    split_sizes = dict(num_training=500, num_validation=100, num_test=100)
else:
    split_sizes = dict(num_training=49000, num_validation=1000, num_test=10000)
data = load_cifar10_torch(**split_sizes)
for name, tensor in data.items():
    print(f"{name}: shape {tuple(tensor.shape)}, dtype {tensor.dtype}")
train_batches = MiniBatches(data["X_train"], data["y_train"], batch_size=64, shuffle=True)
val_batches = MiniBatches(data["X_val"], data["y_val"], batch_size=64)

# %% [markdown]
# ## Part 2. Barebones PyTorch
#
# A PyTorch tensor is an n-dimensional array, much like a NumPy array, that can live on a GPU and can record
# the operations applied to it. A tensor created with `requires_grad=True` is a *leaf*: after you compute a
# scalar loss from it and call `loss.backward()`, its gradient waits in its `.grad` attribute.
#
# ### Flattening
#
# A fully connected layer needs each image as one row of numbers. Write `flatten`, which turns a batch of shape
# (N, d_1, ..., d_k) into (N, d_1 * ... * d_k), keeping the values of each sample in the usual row-major order
# (channel, then row, then column).

# %% solution="reference_impl.frameworks.torch_barebones.flatten"

# %% test="flatten"
x = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
flat = flatten(x)
assert flat is not None and tuple(flat.shape) == (2, 12), f"flatten: expected shape (2, 12), got {tuple(np.shape(flat))}"
assert torch.equal(flat[1], torch.arange(12.0, 24.0)), "flatten: each row must hold one sample in (C, H, W) order"
print("flatten: shape and order are right")
# The grader's visible cases of flatten, run on your code: what your feedback will say about them.
assert check("flatten").passed, "flatten: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### The forward pass
#
# Implement `three_layer_convnet`: a convolution (with bias) with `channel_1` filters and zero padding of two
# pixels, a ReLU, a convolution (with bias) with `channel_2` filters and zero padding of one pixel, another
# ReLU, and a fully connected layer (with bias) that gives one score per class. Every stride is one.
#
# Use `F.conv2d` (its `padding` argument pads symmetrically), `F.relu` and a matrix product; `fc_w` has shape
# (D, num_classes), so the last layer is `features.mm(fc_w) + fc_b`. The filters have PyTorch's layout
# (out_channels, in_channels, KH, KW), the same as your NumPy `conv_forward_naive`.
#
# The first check is the classic shape test: zero weights, 64 images, and scores of shape (64, 10). The
# second compares your scores with the same network built from the course's NumPy layers.

# %% solution="reference_impl.frameworks.torch_barebones.three_layer_convnet"

# %% test="three_layer_convnet"
zero_params = [torch.zeros(6, 3, 5, 5), torch.zeros(6), torch.zeros(9, 6, 3, 3), torch.zeros(9),
               torch.zeros(9 * 32 * 32, 10), torch.zeros(10)]
scores = three_layer_convnet(torch.zeros(64, 3, 32, 32), zero_params)
assert scores is not None and tuple(scores.shape) == (64, 10), \
    f"three_layer_convnet: scores should have shape (64, 10), got {tuple(np.shape(scores))}"
test_rng = np.random.default_rng(0)
x_np = test_rng.standard_normal((3, 3, 8, 8))
params_np = [test_rng.standard_normal(s) * 0.3 for s in [(4, 3, 5, 5), (4,), (5, 4, 3, 3), (5,), (5 * 8 * 8, 7), (7,)]]
scores = three_layer_convnet(torch.from_numpy(x_np), [torch.from_numpy(p) for p in params_np])
error = rel_error(scores.detach().numpy(), three_layer_convnet_scores(x_np, params_np))
print(f"three_layer_convnet: relative error {error:.2e} against the NumPy layers (float64: about 1e-13)")
assert error < 1e-9, f"three_layer_convnet: relative error {error:.2e} against the NumPy layers is too large"
# The grader's visible cases of three_layer_convnet, run on your code: what your feedback will say about them.
assert check("three_layer_convnet").passed, "three_layer_convnet: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### Initialisation
#
# Weights drawn with a fixed small scale make the signal shrink (or explode) a little more in every layer.
# Kaiming He's initialisation draws each weight from a normal distribution with standard deviation
# $\sqrt{2 / \text{fan\_in}}$, where fan_in is the number of inputs each output adds up: C * KH * KW for a
# filter bank of shape (F, C, KH, KW) and D for a fully connected weight of shape (D, num_classes). With ReLU
# layers this keeps the variance of the activations about the same from layer to layer.
#
# Write `random_weight` (Kaiming normal, a leaf tensor that requires gradients), `zero_weight` (zeros, for the
# biases) and `three_layer_convnet_init`, which builds the six parameters of the network with 5x5 filters in
# the first layer and 3x3 filters in the second. Use `torch.randn` so that `torch.manual_seed` controls it.

# %% solution="reference_impl.frameworks.torch_barebones.random_weight"

# %% test="random_weight"
torch.manual_seed(0)
w = random_weight((64, 3, 5, 5))
assert w is not None and tuple(w.shape) == (64, 3, 5, 5), f"random_weight: wrong shape {tuple(np.shape(w))}"
assert w.dtype == torch.float32 and w.requires_grad and w.is_leaf, \
    "random_weight: expected a float32 leaf tensor with requires_grad=True"
ratio = w.detach().double().pow(2).mean().sqrt().item() / np.sqrt(2 / 75)
print(f"random_weight: measured std / sqrt(2 / fan_in) = {ratio:.3f} (should be close to 1)")
assert 0.9 < ratio < 1.1, "random_weight: the standard deviation is not sqrt(2 / fan_in); which fan_in did you use?"
# The grader's visible cases of random_weight, run on your code: what your feedback will say about them.
assert check("random_weight").passed, "random_weight: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% solution="reference_impl.frameworks.torch_barebones.zero_weight"

# %% test="zero_weight"
b = zero_weight((7,))
assert b is not None and tuple(b.shape) == (7,) and not b.detach().any(), "zero_weight: expected 7 zeros"
assert b.dtype == torch.float32 and b.requires_grad, "zero_weight: expected a float32 tensor with requires_grad"
print("zero_weight: ok")
# The grader's visible cases of zero_weight, run on your code: what your feedback will say about them.
assert check("zero_weight").passed, "zero_weight: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% solution="reference_impl.frameworks.torch_barebones.three_layer_convnet_init"

# %% test="three_layer_convnet_init"
params = three_layer_convnet_init(input_dim=(3, 32, 32), channel_1=32, channel_2=16, num_classes=10)
expected_shapes = [(32, 3, 5, 5), (32,), (16, 32, 3, 3), (16,), (16 * 32 * 32, 10), (10,)]
assert params is not None and [tuple(p.shape) for p in params] == expected_shapes, \
    f"three_layer_convnet_init: shapes {[tuple(p.shape) for p in params or []]}, expected {expected_shapes}"
assert all(p.requires_grad for p in params), "three_layer_convnet_init: every parameter must require gradients"
assert not any(p.detach().any() for p in params[1::2]), "three_layer_convnet_init: biases must start at zero"
print("three_layer_convnet_init: ok")
# The grader's visible cases of three_layer_convnet_init, run on your code: what your feedback will say about them.
assert check("three_layer_convnet_init").passed, "three_layer_convnet_init: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### A training step
#
# Write `train_step`: compute the scores, the mean softmax cross-entropy (`F.cross_entropy`), and call
# `backward()`. Then update every parameter in place, `w -= learning_rate * w.grad`, inside
# `with torch.no_grad():` (the update itself must not be recorded by autograd), and reset each gradient to zero
# afterwards, because PyTorch *adds* new gradients to old ones. Return the loss as a Python float.
#
# The check takes one step from fixed parameters and compares the result with one SGD step computed by the
# course's NumPy layers and their hand-written backward passes.

# %% solution="reference_impl.frameworks.torch_barebones.train_step"

# %% test="train_step"
test_rng = np.random.default_rng(1)
x_np = test_rng.standard_normal((4, 3, 6, 6))
y_np = test_rng.integers(0, 5, size=4)
params_np = [test_rng.standard_normal(s) * 0.3 for s in [(4, 3, 5, 5), (4,), (3, 4, 3, 3), (3,), (3 * 6 * 6, 5), (5,)]]
expected_loss, expected_params = three_layer_convnet_sgd_step(x_np, y_np, params_np, 0.1)
params = [torch.tensor(p, requires_grad=True) for p in params_np]
loss = train_step(three_layer_convnet, params, torch.from_numpy(x_np), torch.from_numpy(y_np), 0.1)
assert loss is not None and abs(float(loss) - expected_loss) < 1e-8, f"train_step: loss {loss}, expected {expected_loss:.6f}"
for name, got, want in zip(["conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"], params, expected_params):
    error = rel_error(got.detach().numpy(), want)
    assert error < 1e-8, f"train_step: {name} after the step has relative error {error:.2e}"
    assert got.grad is None or not got.grad.any(), f"train_step: the gradient of {name} was not reset"
print("train_step: one step equals the NumPy reference")
# The grader's visible cases of train_step, run on your code: what your feedback will say about them.
assert check("train_step").passed, "train_step: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### Training the barebones network
#
# The next cell trains the network for one epoch with a learning rate of 3e-3 and prints the validation
# accuracy now and then. On CIFAR-10 you should see above 43% after that epoch; no tuning is needed.

# %%
if GRADING:
    print("grading: demonstration training skipped")
else:
    torch.manual_seed(0)
    barebones_params = three_layer_convnet_init(channel_1=32, channel_2=16, device=device)
    barebones_losses = train_one_epoch(three_layer_convnet, barebones_params, train_step, train_batches,
                                       learning_rate=3e-3, device=device, val_batches=val_batches,
                                       print_every=print_every)
    barebones_accuracy = check_accuracy(lambda x: three_layer_convnet(x, barebones_params), val_batches, device)
    print(f"barebones network after one epoch: validation accuracy {barebones_accuracy:.2%}")

# %% [markdown]
# ## Part 3. The Module API
#
# Writing every parameter by hand does not scale. A subclass of `nn.Module` declares its layers as attributes
# in `__init__` (`nn.Conv2d`, `nn.Linear`, ...), which register their parameters automatically, and computes
# the scores in `forward`. Build the same network as `ThreeLayerConvNet`: 5x5 filters with padding 2, 3x3
# filters with padding 1, and the fully connected layer, with attributes named `conv1`, `conv2` and `fc`.
# Initialise every weight with `nn.init.kaiming_normal_` and every bias with `nn.init.zeros_`.
#
# Note that `nn.Linear` stores its weight as (num_classes, D): the transpose of the barebones `fc_w`.

# %% solution="reference_impl.frameworks.torch_modules.ThreeLayerConvNet"

# %% test="ThreeLayerConvNet"
net = ThreeLayerConvNet(in_channel=3, channel_1=12, channel_2=8, num_classes=10)
scores = net(torch.zeros(64, 3, 32, 32))
assert tuple(scores.shape) == (64, 10), f"ThreeLayerConvNet: scores of shape {tuple(scores.shape)}, expected (64, 10)"
shapes = {name: tuple(p.shape) for name, p in net.named_parameters()}
print(f"ThreeLayerConvNet parameters: {shapes}")
assert shapes.get("conv1.weight") == (12, 3, 5, 5) and shapes.get("conv2.weight") == (8, 12, 3, 3), \
    "ThreeLayerConvNet: conv1 should have 12 5x5 filters and conv2 8 3x3 filters"
net.double()
x_np = np.random.default_rng(2).standard_normal((2, 3, 32, 32))
weights = [p.detach().numpy() for p in (net.conv1.weight, net.conv1.bias, net.conv2.weight, net.conv2.bias)]
weights += [net.fc.weight.detach().numpy().T, net.fc.bias.detach().numpy()]
error = rel_error(net(torch.from_numpy(x_np)).detach().numpy(), three_layer_convnet_scores(x_np, weights))
print(f"ThreeLayerConvNet: relative error {error:.2e} against the NumPy layers with the same weights")
assert error < 1e-9, "ThreeLayerConvNet: the scores differ from the reference network with the same weights"
# The grader's visible cases of ThreeLayerConvNet, run on your code: what your feedback will say about them.
assert check("ThreeLayerConvNet").passed, "ThreeLayerConvNet: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# `train_module` is the usual PyTorch training loop: for each batch, compute the loss, `optimizer.zero_grad()`,
# `loss.backward()`, `optimizer.step()`. Train your module for one epoch with plain SGD:

# %%
if GRADING:
    print("grading: demonstration training skipped")
else:
    torch.manual_seed(0)
    module_net = ThreeLayerConvNet(in_channel=3, channel_1=32, channel_2=16, num_classes=10)
    module_losses = train_module(module_net, torch.optim.SGD(module_net.parameters(), lr=3e-3), train_batches,
                                 num_epochs=1, device=device, val_batches=val_batches, print_every=print_every)
    print(f"Module API network after one epoch: validation accuracy {check_accuracy(module_net, val_batches, device):.2%}")

# %% [markdown]
# ## Part 4. The Sequential API
#
# When a network is a plain chain of layers, `nn.Sequential` builds it from the list of layers, with no class
# to write. Build `sequential_convnet`: 16 5x5 filters with padding 2, ReLU, 32 3x3 filters with padding 1,
# ReLU, `nn.Flatten()` and a fully connected layer, in exactly that order (six entries), initialised like
# `ThreeLayerConvNet`. Then write `nesterov_sgd`, which returns stochastic gradient descent with Nesterov
# momentum 0.9 (see the arguments of `torch.optim.SGD`). On CIFAR-10, one epoch with learning rate 5e-4 should
# reach above 45% validation accuracy.

# %% solution="reference_impl.frameworks.torch_sequential.sequential_convnet"

# %% test="sequential_convnet"
seq_net = sequential_convnet()
assert isinstance(seq_net, nn.Sequential) and len(seq_net) == 6, "sequential_convnet: expected an nn.Sequential of 6 layers"
assert tuple(seq_net(torch.zeros(5, 3, 32, 32)).shape) == (5, 10), "sequential_convnet: scores should be (5, 10)"
print(seq_net)
# The grader's visible cases of sequential_convnet, run on your code: what your feedback will say about them.
assert check("sequential_convnet").passed, "sequential_convnet: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% solution="reference_impl.frameworks.torch_sequential.nesterov_sgd"

# %% test="nesterov_sgd"
probe = torch.zeros(3, requires_grad=True)  # a parameter of its own: this check does not need sequential_convnet
optimizer = nesterov_sgd([probe], learning_rate=5e-4)
group = optimizer.param_groups[0]
assert isinstance(optimizer, torch.optim.SGD) and group["nesterov"] and group["momentum"] == 0.9 \
    and group["lr"] == 5e-4, f"nesterov_sgd: expected SGD with lr 5e-4, Nesterov momentum 0.9; got {group}"
print("nesterov_sgd: ok")
# The grader's visible cases of nesterov_sgd, run on your code: what your feedback will say about them.
assert check("nesterov_sgd").passed, "nesterov_sgd: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %%
if GRADING:
    print("grading: demonstration training skipped")
else:
    torch.manual_seed(0)
    seq_net = sequential_convnet()
    seq_losses = train_module(seq_net, nesterov_sgd(seq_net.parameters(), learning_rate=5e-4), train_batches,
                              num_epochs=1, device=device, val_batches=val_batches, print_every=print_every)
    print(f"Sequential network after one epoch: validation accuracy {check_accuracy(seq_net, val_batches, device):.2%}")

# %% [markdown]
# ## Part 5. Open-ended: the best network you can train
#
# Design and train any network you like on CIFAR-10, aiming at **at least 70% validation accuracy within 10
# epochs**. Ideas worth trying: more filters and more layers, 3x3 filters stacked instead of larger ones, max
# pooling to shrink the feature maps, batch normalisation (`nn.BatchNorm2d`), global average pooling
# (`nn.AdaptiveAvgPool2d(1)`) instead of one huge fully connected layer, dropout, weight decay, Adam or AdamW,
# and a learning-rate schedule (`torch.optim.lr_scheduler`). Tune on the validation set; look at the test set
# once, at the end. Because `train_module` switches between `model.train()` and `model.eval()` (through
# `check_accuracy`), batch normalisation and dropout behave correctly with it.
#
# **What the grader does with your model** (read this before you start):
#
# 1. It runs the setup cells and your `build_open_model` cell, and nothing else: the training cell never runs
#    during grading. `build_open_model()` must therefore take no arguments, need no data, and return the same
#    architecture every time. Put every layer and every piece of preprocessing inside the model.
# 2. It loads `open_model.pt`, the file the cell after the training writes next to this notebook with
#    `save_open_model` (your model's `state_dict`, saved with `torch.save`). It reads it with
#    `torch.load(..., weights_only=True)`: the file may hold tensors only, and a file containing anything
#    else (pickled objects or code) is refused and earns nothing. The keys and shapes must match your
#    `build_open_model()` exactly (`load_state_dict(strict=True)`). Submit this file with the notebook.
# 3. It evaluates your model in eval mode on the CPU, on the validation images normalised exactly as
#    `load_cifar10_torch` does with its default split (the statistics of the first 49,000 training images),
#    and measures the accuracy of the highest scores itself: your code never sees the labels.
# 4. Credit grows with that accuracy, from chance (10%) to full credit at 70%.

# %% solution="reference_impl.frameworks.torch_open_model.build_open_model"

# %% test="build_open_model"
open_model = build_open_model()
assert isinstance(open_model, nn.Module), "build_open_model must return a torch.nn.Module"
open_model.eval()
with torch.no_grad():
    assert tuple(open_model(torch.zeros(2, 3, 32, 32)).shape) == (2, 10), "build_open_model: scores must be (N, 10)"
print(f"build_open_model: {sum(p.numel() for p in open_model.parameters()):,} parameters")
# The grader's visible cases of build_open_model, run on your code: what your feedback will say about them.
assert check("build_open_model").passed, "build_open_model: see the failed cases above"

### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# Put your training inside the marked region of the next cell. It must leave the trained network in
# `open_model`. It is skipped in grading mode, so it may take as long as you like.

# %% student_code="open_model"
open_model = None
if SMALL_DATA:
    print("small-data mode: training skipped; the grader evaluates the saved file")
else:
    ### BEGIN SOLUTION
    torch.manual_seed(0)
    open_model = build_open_model()
    open_optimizer = torch.optim.AdamW(open_model.parameters(), lr=1e-3, weight_decay=5e-4)
    start = time.perf_counter()
    open_losses = train_module(open_model, open_optimizer, train_batches, num_epochs=10, device=device,
                               val_batches=val_batches, print_every=print_every)
    print(f"trained for 10 epochs in {time.perf_counter() - start:.0f} s")
    plt.plot(open_losses)
    plt.xlabel("iteration")
    plt.ylabel("training loss")
    plt.show()
    ### END SOLUTION

# %% readonly="save_open_model"
if open_model is not None:
    save_open_model(open_model, OPEN_MODEL_FILE)
    print(f"saved {OPEN_MODEL_FILE}; validation accuracy {check_accuracy(open_model, val_batches, device):.2%}")
elif SMALL_DATA:
    print(f"small-data mode: nothing trained here, {OPEN_MODEL_FILE} is left as it is")
else:
    raise NotImplementedError("the training cell did not set open_model, so there is nothing to save")

# %% test="open_model"
# The grader scores the open-ended part from the saved file; this cell checks that the file loads the way the
# grader loads it and shows the accuracy that the grader will measure on the validation split.
assert os.path.isfile(OPEN_MODEL_FILE), f"{OPEN_MODEL_FILE} is missing: train your model and run the cell that saves it"
reloaded = load_open_model(build_open_model, OPEN_MODEL_FILE)
val_scores = predict_scores(reloaded, data["X_val"].numpy())
assert val_scores.shape == (len(data["y_val"]), 10) and np.all(np.isfinite(val_scores)), \
    f"{OPEN_MODEL_FILE}: the reloaded model gives scores of shape {val_scores.shape} or non-finite scores"
print(f"{OPEN_MODEL_FILE} reloads; validation accuracy {np.mean(val_scores.argmax(axis=1) == data['y_val'].numpy()):.2%}")

# %% [markdown] answer="answer_open_model"
# Describe what you tried: the architectures and training settings, what helped and what did not, and the
# validation accuracy of the model you saved.
