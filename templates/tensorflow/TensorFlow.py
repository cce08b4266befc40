# %% [markdown]
# # Convolutional networks in TensorFlow 2 and Keras
#
# You have written convolutions, pooling and a whole convolutional network in NumPy, with every gradient
# derived by hand. Real projects leave that work to a deep-learning framework: it computes gradients
# automatically, runs the arithmetic on a GPU when there is one, and packages layers, optimizers and training
# loops so that a new model is a few lines of code. This notebook builds the same small network four times in
# TensorFlow 2, each time handing more of the work to the framework:
#
# 1. **Barebones TensorFlow**: tensors, variables and raw operations (`tf.nn.conv2d`, `tf.matmul`), gradients
#    from `tf.GradientTape`, and a gradient-descent update you write yourself;
# 2. **Keras model subclassing**: the network as a `tf.keras.Model` whose layers own their weights;
# 3. **Keras Sequential**: the network as a stack of layers, trained with SGD and Nesterov momentum;
# 4. **Keras functional API**: the same stack written as a graph of layer calls;
#
# and finally you design and train a network of your own, aiming at **70% validation accuracy on CIFAR-10
# within 10 epochs**.
#
# **Getting started.** Install the requirements once with `pip install -r requirements.txt` (TensorFlow's CPU
# wheel is about 270 MB). The provided code lives in the package `convkit/` next to this notebook. Download the
# data set with `python -m convkit.download`. A GPU helps a lot in the last part but is not needed anywhere.
#
# **How you are graded.** Each function you write has a test cell right after it. Its last line,
# `check("<function>")`, runs the grader's visible cases of that function on your code, here in your kernel,
# and prints for each one what your feedback will say: what was checked, expected and got, and a hint. You can
# call `check` yourself in any cell. The grader also runs hidden cases: the same rules on other data (image
# sizes, batch sizes and filter counts), outside this notebook, and compares your results with the kit's NumPy
# layers. Do not rename the
# functions, change their arguments, or edit the test cells. Functions in the barebones part must use raw
# TensorFlow operations: calling Keras layers there earns nothing, and `check(...)` already fails with the
# grader's error.
#
# **Grading mode.** When the notebook is graded it runs in small-data mode (see "Preparation" below): a tiny
# data set, short training runs. Keep your code inside the marked regions so that this still works.

# %% readonly="setup"
import os

# TensorFlow logs start-up notices about CPU instruction sets and GPU libraries; they are harmless, and this
# hides most of them (a few are written before the setting is read).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import time

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from convkit.frameworks.layouts import nhwc_to_nchw, three_layer_params_tf_to_numpy
from convkit.frameworks.numpy_net import three_layer_convnet_scores, three_layer_convnet_sgd_step
from convkit.data import small_data_mode
from convkit.frameworks.prep import MiniBatches, load_cifar10_for_framework, load_tiny_cifar10_for_framework
from convkit.frameworks.tf_device import choose_device
from convkit.frameworks.tf_training import check_accuracy, open_model_predictions, train_barebones, train_keras
from convkit.frameworks.weights_file import OPEN_MODEL_WEIGHTS, check_keras_weights_file
from convkit.gradient_check import rel_error
from convkit.selfcheck import check  # check("flatten"): the grader's visible cases, run on your code

# %matplotlib inline

device = choose_device()
print(f"TensorFlow {tf.__version__}; running on {device}")

# %% [markdown]
# ## Preparation: data, batches and device
#
# TensorFlow stores images **channels last**: a batch has shape (N, H, W, C), "NHWC", where the NumPy layers
# you wrote used (N, C, H, W). Convolution kernels follow suit with shape (KH, KW, C_in, C_out). The loader
# below reads CIFAR-10 in this layout, keeps 49,000 training images, 1,000 validation images and 10,000 test
# images, and normalises every split by the training set's per-channel mean and standard deviation.
#
# `MiniBatches` walks through a split in batches of 64 images (a new random order on every pass through the
# training set). `choose_device` picked the first GPU if TensorFlow can see one and the CPU otherwise;
# the training loops run inside `with tf.device(device):`.

# %% [markdown]
# **Small-data mode.** To work without CIFAR-10 (offline, or before the download has finished), set
# `USE_SMALL_DATA = True` in the next cell and run the notebook from the top. The notebook then loads the tiny
# stand-in shipped in `convkit/tiny_cifar10.zip` (1,350 training, 150 validation and 297 test images of
# coloured handwritten digits in the CIFAR-10 format) and trains on it instead, which takes seconds. Grading
# always runs the notebook in this mode, so keep your code inside the marked regions. (Setting the environment
# variable `CONVKIT_SMALL_DATA=1` before starting Jupyter does the same.)

# %%
USE_SMALL_DATA = False  # True: the tiny data set shipped with the assignment, no long training runs

# %% readonly="load_data"
SMALL_DATA = small_data_mode(USE_SMALL_DATA)  # also on while the notebook is graded
print(f"small-data mode: {SMALL_DATA}")
data = load_tiny_cifar10_for_framework("NHWC") if SMALL_DATA else load_cifar10_for_framework("NHWC")
for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
    print(f"{name}: shape {data[name].shape}, dtype {data[name].dtype}")
train_batches = MiniBatches(data["X_train"], data["y_train"], batch_size=64, shuffle=True)
val_batches = MiniBatches(data["X_val"], data["y_val"], batch_size=64)
test_batches = MiniBatches(data["X_test"], data["y_test"], batch_size=64)
print_every = 100  # training steps between two checks of the validation accuracy

# %% [markdown]
# ## Barebones TensorFlow
#
# TensorFlow 2 runs operations **eagerly**: `tf.matmul(a, b)` computes its result immediately, like NumPy, and
# returns a `tf.Tensor`. Tensors are immutable; model weights live in `tf.Variable`s, which can be updated in
# place. To get gradients, run the forward computation inside a `tf.GradientTape` block: the tape records the
# operations on variables, and `tape.gradient(loss, variables)` differentiates through them.
#
# ### Flattening
#
# Before the fully connected layer each image's feature map has to become one row. Write `flatten`, which keeps
# the first axis and merges all the others. Use `tf.shape(x)[0]` (the batch size when the code runs) rather than
# a fixed number, so that the last, smaller batch of an epoch works too.

# %% solution="reference_impl.frameworks.tf_barebones.flatten"

# %% test="flatten"
x_np = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
flat = flatten(tf.constant(x_np))
assert flat is not None and tuple(flat.shape) == (2, 60), \
    f"flatten: expected shape (2, 60) for input (2, 3, 4, 5), got {None if flat is None else tuple(flat.shape)}"
assert np.array_equal(np.asarray(flat), x_np.reshape(2, 60)), \
    "flatten: rows must hold each sample's entries in row-major order"
print("flatten: shape and order correct")
# The grader's visible cases of flatten, run on your code: what your feedback will say about them.
assert check("flatten").passed, "flatten: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### The three-layer convnet, forward pass
#
# Implement `three_layer_convnet(x, params)`:
#
# 1. a convolution (with bias) with `channel_1` filters and zero padding of **2** on every side,
# 2. ReLU,
# 3. a convolution (with bias) with `channel_2` filters and zero padding of **1**,
# 4. ReLU,
# 5. a fully connected layer (with bias) that gives one score per class.
#
# Use `tf.nn.conv2d` with stride 1. Its `padding` argument accepts either a name (`"SAME"`, `"VALID"`) or an
# explicit list of (before, after) amounts per axis of the NHWC input; pass the explicit amounts, because
# `"SAME"` pads 2 and 1 only for 5x5 and 3x3 kernels. Biases broadcast over the batch and spatial axes when you
# add them. For 32x32 images and 5x5 then 3x3 kernels the feature maps stay 32x32, so `fc_w` has
# 32 * 32 * `channel_2` rows in the order your `flatten` produces.

# %% solution="reference_impl.frameworks.tf_barebones.three_layer_convnet"

# %% test="three_layer_convnet"
# The shape check of the original assignment: 64 images of zeros, zero weights.
zero_params = [tf.zeros((5, 5, 3, 6)), tf.zeros((6,)), tf.zeros((3, 3, 6, 9)), tf.zeros((9,)),
               tf.zeros((32 * 32 * 9, 10)), tf.zeros((10,))]
scores = three_layer_convnet(tf.zeros((64, 32, 32, 3)), zero_params)
assert scores is not None and tuple(scores.shape) == (64, 10), \
    f"three_layer_convnet: expected scores of shape (64, 10), got {None if scores is None else tuple(scores.shape)}"
# Values: random images and weights, against the kit's NumPy layers (converted to their NCHW layout).
check_rng = np.random.default_rng(0)
shapes = [(5, 5, 3, 4), (4,), (3, 3, 4, 5), (5,), (8 * 8 * 5, 10), (10,)]
params_np = [(check_rng.standard_normal(s) * 0.3).astype(np.float32) for s in shapes]
x_np = check_rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
scores = np.asarray(three_layer_convnet(tf.constant(x_np), [tf.constant(p) for p in params_np]))
expected = three_layer_convnet_scores(nhwc_to_nchw(x_np).astype(np.float64),
                                      three_layer_params_tf_to_numpy(params_np, (8, 8)))
error = rel_error(scores, expected)
print(f"three_layer_convnet: relative error {error:.2e} against the NumPy layers (float32: about 1e-6)")
assert error < 1e-4, f"three_layer_convnet: scores differ from the NumPy layers' (relative error {error:.2e})"
# The grader's visible cases of three_layer_convnet, run on your code: what your feedback will say about them.
assert check("three_layer_convnet").passed, "three_layer_convnet: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### Kaiming initialisation
#
# With ReLU units, weights drawn from a normal distribution with variance 2 / fan_in keep the scale of the
# activations roughly constant from layer to layer (He et al., 2015). The fan-in is the number of inputs of one
# output unit: D for a (D, M) weight matrix and KH * KW * C_in for a (KH, KW, C_in, C_out) kernel. Write
# `create_matrix_with_kaiming_normal(shape)` with `tf.random.normal` (not a truncated normal), returning a
# float32 tensor, and then `three_layer_convnet_init`, which wraps the weights (and zero biases) in
# `tf.Variable`s for the network above with 5x5 and 3x3 kernels.

# %% solution="reference_impl.frameworks.tf_barebones.create_matrix_with_kaiming_normal"

# %% test="create_matrix_with_kaiming_normal"
# count * mean(w**2) / sigma**2 is chi-square with count degrees of freedom; with t = ln(2e7) the bounds below
# (Laurent and Massart, 2000) fail for a correct initialiser less than once in ten million runs.
t = np.log(2e7)
for shape in [(4096, 10), (5, 5, 3, 200)]:
    weights = create_matrix_with_kaiming_normal(shape)
    assert weights is not None and tuple(weights.shape) == shape, f"kaiming {shape}: wrong shape"
    assert weights.dtype == tf.float32, f"kaiming {shape}: dtype {weights.dtype}, expected float32"
    values = np.asarray(weights, dtype=np.float64).ravel()
    variance = 2.0 / np.prod(shape[:-1])
    ratio = np.mean(values ** 2) / variance
    low, high = 1 - 2 * np.sqrt(t / values.size), 1 + 2 * np.sqrt(t / values.size) + 2 * t / values.size
    print(f"kaiming {shape}: mean square / (2 / fan_in) = {ratio:.4f}, expected within [{low:.3f}, {high:.3f}]")
    assert low < ratio < high, f"kaiming {shape}: the variance is not 2 / fan_in"
    assert abs(values.mean()) < np.sqrt(2 * t) * np.sqrt(variance / values.size), f"kaiming {shape}: mean not 0"
# The grader's visible cases of create_matrix_with_kaiming_normal, run on your code: what your feedback will say about them.
assert check("create_matrix_with_kaiming_normal").passed, "create_matrix_with_kaiming_normal: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% solution="reference_impl.frameworks.tf_barebones.three_layer_convnet_init"

# %% test="three_layer_convnet_init"
params = three_layer_convnet_init()
assert params is not None and len(params) == 6, "three_layer_convnet_init: expected a list of six variables"
expected_shapes = [(5, 5, 3, 32), (32,), (3, 3, 32, 16), (16,), (32 * 32 * 16, 10), (10,)]
assert [tuple(p.shape) for p in params] == expected_shapes, \
    f"three_layer_convnet_init: shapes {[tuple(p.shape) for p in params]}, expected {expected_shapes}"
assert all(isinstance(p, tf.Variable) and p.trainable and p.dtype == tf.float32 for p in params), \
    "three_layer_convnet_init: every parameter must be a trainable float32 tf.Variable"
assert all(np.all(np.asarray(b) == 0) for b in params[1::2]), "three_layer_convnet_init: biases must be zero"
print("three_layer_convnet_init: shapes, types and biases correct")
# The grader's visible cases of three_layer_convnet_init, run on your code: what your feedback will say about them.
assert check("three_layer_convnet_init").passed, "three_layer_convnet_init: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### One training step
#
# `training_step` performs one step of plain gradient descent: compute the scores inside a `tf.GradientTape`,
# the mean softmax cross-entropy loss (`tf.nn.sparse_softmax_cross_entropy_with_logits` gives one loss per image),
# the gradients of the loss with respect to every parameter, and then update each variable in place with
# `assign_sub(learning_rate * gradient)`. Return the loss.

# %% solution="reference_impl.frameworks.tf_barebones.training_step"

# %% test="training_step"
check_rng = np.random.default_rng(1)
shapes = [(5, 5, 3, 4), (4,), (3, 3, 4, 5), (5,), (7 * 6 * 5, 6), (6,)]
initial = [(check_rng.standard_normal(s) * 0.2).astype(np.float32) for s in shapes]
x_np = check_rng.standard_normal((4, 7, 6, 3)).astype(np.float32)
y_np = np.array([0, 5, 2, 5])
params = [tf.Variable(p) for p in initial]
loss = training_step(three_layer_convnet, tf.constant(x_np), tf.constant(y_np), params, 0.05)
before = [p.astype(np.float64) for p in three_layer_params_tf_to_numpy(initial, (7, 6))]
expected_loss, expected = three_layer_convnet_sgd_step(nhwc_to_nchw(x_np).astype(np.float64), y_np, before, 0.05)
assert loss is not None and abs(float(loss) - expected_loss) < 1e-4 * expected_loss, \
    f"training_step: loss {loss}, expected {expected_loss:.6f}"
updated = three_layer_params_tf_to_numpy([np.asarray(p) for p in params], (7, 6))
for name, got, want, start in zip(("conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b"),
                                  updated, expected, before):
    # Relative to the largest entry of the update: float32 rounding swamps the update's tiniest entries.
    error = np.abs((got - start) - (want - start)).max() / np.abs(want - start).max()
    print(f"training_step: {name} update, error {error:.2e} relative to its largest entry")
    assert error < 1e-3, f"training_step: the update of {name} differs from gradient descent's"
# The grader's visible cases of training_step, run on your code: what your feedback will say about them.
assert check("training_step").passed, "training_step: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### Training the barebones network
#
# The provided `train_barebones` initialises the parameters, runs your `training_step` on every mini-batch of
# one epoch, and prints the loss and the validation accuracy every `print_every` steps. With a learning rate of
# 3e-3 you should see **above 43% validation accuracy after one epoch** on CIFAR-10 without any tuning.
# One epoch is 766 steps: about 5 minutes on a two-core laptop CPU, seconds on a GPU. (In small-data mode it
# trains on the small slice instead, which takes a few seconds.)

# %%
start = time.perf_counter()
barebones_params, barebones_history = train_barebones(
    three_layer_convnet, three_layer_convnet_init, training_step, 3e-3, train_batches, val_batches,
    device=device, print_every=print_every)
print(f"one epoch in {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## Keras: subclassing `tf.keras.Model`
#
# Keras layers create and own their weights: `tf.keras.layers.Conv2D(filters, kernel_size, ...)` makes its kernel
# and bias the first time it is called on an input, so a model no longer needs to know the input size in advance.
# A model subclass creates its layers in `__init__` and uses them in `call`. Write `ThreeLayerConvNet`: a 5x5
# convolution with `channel_1` filters, ReLU, a 3x3 convolution with `channel_2` filters, ReLU, and a fully
# connected layer with `num_classes` outputs, no softmax. Keep the image size (for odd kernels and stride 1,
# `padding="same"` pads exactly 2 and 1), initialise the weights with `"he_normal"` (Kaiming) and the biases
# with zeros, and create the layers in the order they are used.

# %% solution="reference_impl.frameworks.tf_keras_models.ThreeLayerConvNet"

# %% test="ThreeLayerConvNet"
model = ThreeLayerConvNet(channel_1=12, channel_2=8, num_classes=10)
x_np = np.random.default_rng(2).standard_normal((64, 32, 32, 3)).astype(np.float32)
scores = model(x_np)
assert scores is not None and tuple(scores.shape) == (64, 10), "ThreeLayerConvNet: expected scores (64, 10)"
weights = model.get_weights()
expected_shapes = [(5, 5, 3, 12), (12,), (3, 3, 12, 8), (8,), (32 * 32 * 8, 10), (10,)]
assert [w.shape for w in weights] == expected_shapes, \
    f"ThreeLayerConvNet: weight shapes {[w.shape for w in weights]}, expected {expected_shapes}"
# Given the same weights, the model must compute what your barebones network computes.
error = rel_error(np.asarray(model(x_np)), np.asarray(three_layer_convnet(tf.constant(x_np), weights)))
print(f"ThreeLayerConvNet: relative error {error:.2e} against three_layer_convnet with the same weights")
assert error < 1e-4, "ThreeLayerConvNet: scores differ from the barebones network's with the same weights"
# The grader's visible cases of ThreeLayerConvNet, run on your code: what your feedback will say about them.
assert check("ThreeLayerConvNet").passed, "ThreeLayerConvNet: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# The provided `train_keras` trains any Keras model with a Keras optimizer: for every batch it records the
# forward pass on a `tf.GradientTape`, and `optimizer.apply_gradients` updates the weights. Here it trains your
# model with plain SGD for one epoch (about as long as the barebones epoch).

# %%
module_model, module_history = train_keras(
    lambda: ThreeLayerConvNet(channel_1=32, channel_2=16, num_classes=10),
    lambda: tf.keras.optimizers.SGD(learning_rate=3e-3), train_batches, val_batches, device=device,
    print_every=print_every)

# %% [markdown]
# ## Keras Sequential
#
# When the layers simply follow one another, `tf.keras.Sequential([...])` builds the model from the list
# of layers, starting with `tf.keras.Input(shape=input_shape)`. Write `three_layer_convnet_sequential` with
# **16 5x5 filters** (pad 2), ReLU, **32 3x3 filters** (pad 1), ReLU, a flatten and a fully connected layer to
# `num_classes` scores, Kaiming-initialised like the model above, and `sgd_nesterov_optimizer`, which returns SGD
# with **Nesterov momentum 0.9**. Trained for one epoch with a learning rate of 5e-4, the model should reach
# **above 45% validation accuracy** on CIFAR-10 (about 5 minutes on a two-core CPU).

# %% solution="reference_impl.frameworks.tf_keras_models.three_layer_convnet_sequential"

# %% solution="reference_impl.frameworks.tf_keras_models.sgd_nesterov_optimizer"

# %% test="three_layer_convnet_sequential"
model = three_layer_convnet_sequential((32, 32, 3), 10)
assert isinstance(model, tf.keras.Sequential), "three_layer_convnet_sequential: expected a tf.keras.Sequential"
expected_shapes = [(5, 5, 3, 16), (16,), (3, 3, 16, 32), (32,), (32 * 32 * 32, 10), (10,)]
assert [w.shape for w in model.get_weights()] == expected_shapes, \
    f"three_layer_convnet_sequential: weight shapes {[w.shape for w in model.get_weights()]}"
x_np = np.random.default_rng(3).standard_normal((5, 32, 32, 3)).astype(np.float32)
error = rel_error(np.asarray(model(x_np)), np.asarray(three_layer_convnet(tf.constant(x_np), model.get_weights())))
print(f"three_layer_convnet_sequential: relative error {error:.2e} against three_layer_convnet")
assert error < 1e-4, "three_layer_convnet_sequential: scores differ from the barebones network's"
# The grader's visible cases of three_layer_convnet_sequential, run on your code: what your feedback will say about them.
assert check("three_layer_convnet_sequential").passed, "three_layer_convnet_sequential: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% test="sgd_nesterov_optimizer"
optimizer = sgd_nesterov_optimizer(5e-4)
config = optimizer.get_config()
assert isinstance(optimizer, tf.keras.optimizers.SGD) and config["nesterov"] and abs(config["momentum"] - 0.9) < 1e-9, \
    "sgd_nesterov_optimizer: expected tf.keras.optimizers.SGD with momentum 0.9 and nesterov=True"
assert abs(config["learning_rate"] - 5e-4) < 1e-9, "sgd_nesterov_optimizer: use the learning_rate argument"
print("sgd_nesterov_optimizer: SGD with momentum 0.9, Nesterov, the given learning rate")
# The grader's visible cases of sgd_nesterov_optimizer, run on your code: what your feedback will say about them.
assert check("sgd_nesterov_optimizer").passed, "sgd_nesterov_optimizer: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %%
sequential_model, sequential_history = train_keras(
    lambda: three_layer_convnet_sequential((32, 32, 3), 10), lambda: sgd_nesterov_optimizer(5e-4),
    train_batches, val_batches, device=device, print_every=print_every)

# %% [markdown]
# ## Keras functional API
#
# The functional API describes a model as calls of layers on symbolic tensors: start from
# `inputs = tf.keras.Input(shape=input_shape)`, pass the result of each layer to the next, and finish with
# `tf.keras.Model(inputs=inputs, outputs=scores)`. Unlike Sequential it allows branches, several inputs or
# outputs, and shared layers. Write `three_layer_convnet_functional` with the same layers as the Sequential model.

# %% solution="reference_impl.frameworks.tf_keras_models.three_layer_convnet_functional"

# %% test="three_layer_convnet_functional"
model = three_layer_convnet_functional((32, 32, 3), 10)
assert isinstance(model, tf.keras.Model), "three_layer_convnet_functional: expected a tf.keras.Model"
expected_shapes = [(5, 5, 3, 16), (16,), (3, 3, 16, 32), (32,), (32 * 32 * 32, 10), (10,)]
assert [w.shape for w in model.get_weights()] == expected_shapes, \
    f"three_layer_convnet_functional: weight shapes {[w.shape for w in model.get_weights()]}"
x_np = np.random.default_rng(4).standard_normal((5, 32, 32, 3)).astype(np.float32)
error = rel_error(np.asarray(model(x_np)), np.asarray(three_layer_convnet(tf.constant(x_np), model.get_weights())))
print(f"three_layer_convnet_functional: relative error {error:.2e} against three_layer_convnet")
assert error < 1e-4, "three_layer_convnet_functional: scores differ from the barebones network's"
# The grader's visible cases of three_layer_convnet_functional, run on your code: what your feedback will say about them.
assert check("three_layer_convnet_functional").passed, "three_layer_convnet_functional: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ## Open-ended: your own network on CIFAR-10
#
# Design and train a network that reaches **at least 70% validation accuracy within 10 epochs**. Ideas:
# filter sizes and counts, max pooling, batch normalisation, deeper stacks of 3x3 convolutions, global average
# pooling instead of a large fully connected layer, dropout or weight decay, other optimizers and learning-rate
# schedules. Tune on the validation set; look at the test set once, at the end.
#
# Keras' own `model.compile(...)` and `model.fit(...)` are the simplest way to train here; they also switch
# batch normalisation and dropout between training and inference for you. On a two-core CPU one epoch of a
# model like the reference (six 3x3 convolutions with batch normalisation) takes about 8 minutes, so 10 epochs
# take over an hour; on a GPU a few minutes.
#
# **What the grader does with your model.** Write your architecture in `build_open_model()`: no arguments, it
# returns a new, untrained `tf.keras.Model` that maps float32 images of shape (N, 32, 32, 3), normalised exactly
# as in this notebook, to 10 class scores per image (logits or probabilities: only the largest counts). Train
# it in the cell after that. The cell after training saves the weights, and only the weights, with
# `model.save_weights("open_model.weights.h5")` next to this notebook; submit that file with the notebook.
# The grader checks the file, calls your `build_open_model()` in its sandbox, loads the weights into that model
# and asks it for the classes of held-out images; it computes the accuracy itself, without retraining
# anything. So `build_open_model()` must build exactly the architecture you trained, must not depend on
# anything defined only in other cells except the imports of the setup cell, and must not train or load files
# itself. A full `.keras` model file, a legacy `.h5` model or any file other than a weights file is refused.
# Credit grows with the accuracy, up to full credit at 70%.

# %% solution="reference_impl.frameworks.tf_open_model.build_open_model"

# %% test="build_open_model"
model = build_open_model()
assert isinstance(model, tf.keras.Model), "build_open_model: expected a tf.keras.Model"
scores = model(np.zeros((2, 32, 32, 3), dtype=np.float32), training=False)
assert tuple(scores.shape) == (2, 10), f"build_open_model: scores of shape {tuple(scores.shape)}, expected (2, 10)"
print(f"build_open_model: a {type(model).__name__} with {model.count_params():,} parameters")
# The grader's visible cases of build_open_model, run on your code: what your feedback will say about them.
assert check("build_open_model").passed, "build_open_model: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% student_code="open_model"
open_model = None
if SMALL_DATA and os.path.exists(OPEN_MODEL_WEIGHTS):
    print(f"small-data mode: training skipped; the grader evaluates the saved {OPEN_MODEL_WEIGHTS}")
else:
    epochs = 1 if SMALL_DATA else 10  # small-data mode without saved weights: a quick run, so the rest works
    ### BEGIN SOLUTION
    open_model = build_open_model()
    open_model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=1e-3),
                       loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"])
    with tf.device(device):
        open_history = open_model.fit(data["X_train"], data["y_train"], batch_size=64, epochs=epochs,
                                      validation_data=(data["X_val"], data["y_val"]), verbose=2)
    ### END SOLUTION

# %% readonly="save_open_model"
if open_model is not None:
    open_model.save_weights(OPEN_MODEL_WEIGHTS)
    val_accuracy = check_accuracy(val_batches, lambda x: open_model(x, training=False))
    print(f"saved {OPEN_MODEL_WEIGHTS}; validation accuracy {val_accuracy:.3f}")
elif SMALL_DATA:
    print(f"small-data mode: nothing trained here, {OPEN_MODEL_WEIGHTS} is left as it is")
else:
    raise NotImplementedError("the training cell did not set open_model, so there is nothing to save")

# %% test="open_model"
# The grader scores the open model from the saved weights; this cell checks that it can, the way it will.
arrays = check_keras_weights_file(OPEN_MODEL_WEIGHTS)
predictions = open_model_predictions(build_open_model, OPEN_MODEL_WEIGHTS, data["X_val"])
assert predictions.shape == data["y_val"].shape, f"open model: {predictions.shape} predictions"
print(f"{OPEN_MODEL_WEIGHTS}: {len(arrays)} arrays; rebuilt model's validation accuracy "
      f"{np.mean(predictions == data['y_val']):.3f}")

# %% [markdown]
# Describe what you tried: architectures, hyperparameters, what helped and what did not, and the validation
# accuracy of your final model. Then report its test accuracy once.

# %% [markdown] answer="answer_open_model"
# The reference model stacks three stages of two 3x3 convolution - batch norm - ReLU blocks (32, 64 and 128
# filters) with 2x2 max pooling between the stages, then global average pooling, dropout 0.3 and one fully
# connected layer; it is trained with Adam (learning rate 1e-3), batch size 64, for 10 epochs.
