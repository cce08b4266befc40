# %% [markdown]
# # Convolutional networks
#
# Fully connected networks ignore the most useful fact about images: nearby pixels belong together, and a
# pattern (an edge, a stripe, an eye) means the same thing wherever it appears. Convolutional layers build that
# assumption into the architecture. They share one small set of weights across every position of the image, so
# they need far fewer parameters than an affine layer and they respond to a pattern wherever it occurs.
#
# In this assignment you will
#
# 1. write the forward and backward passes of a convolutional layer and of max pooling, in plain loops;
# 2. compare them with the fast versions we provide and see where the time goes;
# 3. assemble a three-layer convolutional network, check its gradients and train it on CIFAR-10;
# 4. write spatial batch normalisation and group normalisation for convolutional feature maps;
# 5. run your own experiment to reach at least 65% validation accuracy on CIFAR-10.
#
# **Getting started.** Once, in a terminal, in the folder that holds this notebook:
#
# 1. Make a virtual environment for the assignment and activate it (Python 3.10 or newer):
#    `python3 -m venv .venv`, then `source .venv/bin/activate` (on Windows: `py -m venv .venv`, then
#    `.venv\Scripts\activate`). Activate it again in every new terminal.
# 2. Install the requirements, Jupyter included: `python -m pip install -r requirements.txt`.
# 3. Optional: compile the Cython im2col that the fast convolution uses, with
#    `python -m pip install cython setuptools` followed by `python setup.py build_ext --inplace`. This needs a C
#    compiler (Xcode command line tools on macOS, `build-essential` on Linux, Microsoft C++ Build Tools on
#    Windows). Without it everything still works through a NumPy fallback, and importing `convkit` says so
#    once.
# 4. Download CIFAR-10 (about 170 MB) with `python -m convkit.download`; it creates
#    `datasets/cifar-10-batches-py` next to this notebook. No network? Use small-data mode (see "Loading the
#    data" below).
# 5. Start Jupyter with `jupyter notebook` and open this notebook.
#
# The provided code lives in the package `convkit/` next to this notebook.
#
# **How you are graded.** Each function you write has a test cell right after it. Its last line,
# `check("<function>")`, runs the grader's visible cases of that function on your code, here in your kernel,
# and prints for each one what your feedback will say: what was checked, expected and got, where the error
# sits and a hint. You can call `check` yourself in any cell. The grader also runs hidden cases: the same rules
# (dtypes, strides, paddings, non-square filters and windows, batch sizes, running statistics, inputs left
# unmodified) on other data, so a function that passes every visible case and computes what its docstring says
# passes them too. One rule to keep in mind from the start: **float32 in, float32 out** — every function keeps
# the floating dtype of its inputs (allocate with `dtype=x.dtype` or `np.zeros_like(x)`, not a bare
# `np.zeros(shape)`, which is float64). Do not rename the functions, change their arguments, or edit the test
# cells. The written questions are graded by hand.

# %% readonly="setup"
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from convkit import *  # the provided layers, Solver, update rules, data loading and plotting helpers
from convkit.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from convkit.selfcheck import check  # check("conv_forward_naive"): the grader's visible cases, run on your code

# %matplotlib inline
plt.rcParams["figure.figsize"] = (10.0, 8.0)
plt.rcParams["image.interpolation"] = "nearest"
plt.rcParams["image.cmap"] = "gray"

# Reload convkit automatically when its files change, without restarting the kernel.
# %load_ext autoreload
# %autoreload 2

EXPERIMENT_FILE = "experiment_model.npz"  # the autograder evaluates the model saved here
data = None  # filled in by the cell under "Loading the data"; the cells that need it check first

# %% [markdown]
# ## Loading the data
#
# `get_CIFAR10_data` reads the CIFAR-10 batches, keeps 49,000 training images, 1,000 validation images taken
# from the end of the training batches and 1,000 test images, subtracts the mean training image, and puts the
# colour channel first, giving arrays of shape (N, 3, 32, 32).
#
# **Small-data mode.** To work without CIFAR-10 (offline, or before the download has finished), set
# `USE_SMALL_DATA = True` in the next cell and run the notebook from the top. The notebook then loads a tiny
# stand-in shipped in `convkit/tiny_cifar10.zip` (1,350 training, 150 validation and 297 test images of
# coloured handwritten digits, in the CIFAR-10 format) and skips the long training cells; everything else
# runs as usual. Grading always runs the notebook in this mode, so keep your code inside the marked regions.
# (Setting the environment variable `CONVKIT_SMALL_DATA=1` before starting Jupyter does the same.)

# %%
USE_SMALL_DATA = False  # True: the tiny data set shipped with the assignment, no long training runs

# %% readonly="load_data"
SMALL_DATA = small_data_mode(USE_SMALL_DATA)  # also on while the notebook is graded
print(f"small-data mode: {SMALL_DATA}; fast im2col backend: {BACKEND}")
data = get_tiny_CIFAR10_data() if SMALL_DATA else get_CIFAR10_data()
for name, array in data.items():
    print(f"{name}: shape {array.shape}, dtype {array.dtype}")

# %% [markdown]
# ## Convolution: the naive forward pass
#
# A convolutional layer takes a batch of N images with C channels each, `x` of shape (N, C, H, W), and F
# filters `w` of shape (F, C, HH, WW). Every filter spans all C input channels. The layer first pads the
# input with `pad` zeros on all four sides, then slides each filter across it `stride` pixels at a time. At
# every position the output is the sum of the elementwise product of the filter and the patch under it, plus
# that filter's bias. The output has shape (N, F, H', W') with
#
# $$H' = 1 + \frac{H + 2\,\text{pad} - HH}{\text{stride}}, \qquad
# W' = 1 + \frac{W + 2\,\text{pad} - WW}{\text{stride}}.$$
#
# Implement `conv_forward_naive` below. Clarity matters more than speed here: loops over output positions are
# fine. Two things to watch for: pad a copy of the input and never modify `x` itself, and remember that the
# filters need not be square.

# %% solution="reference_impl.conv_naive.conv_forward_naive"

# %% test="conv_forward_naive"
# A fixed input and fixed filters whose output was computed once and rounded to 8 decimals.
x = {{ conv_forward_naive.x }}
w = {{ conv_forward_naive.w }}
b = {{ conv_forward_naive.b }}
x_before = x.copy()
out, _ = conv_forward_naive(x, w, b, {{ conv_forward_naive.conv_param }})
correct_out = {{ conv_forward_naive.out }}
assert out is not None and np.shape(out) == (2, 3, 2, 2), \
    f"conv_forward_naive: expected an output of shape (2, 3, 2, 2), got {np.shape(out)}"
error = rel_error(out, correct_out)
print(f"conv_forward_naive: relative error {error:.2e} (about 2e-8 is the rounding of the stored values)")
assert error < 1e-7, f"conv_forward_naive: relative error {error:.2e} against the fixed values is too large"
assert np.array_equal(x, x_before), "conv_forward_naive modified its input x; pad a copy instead"
# The grader's visible cases of conv_forward_naive, run on your code: what your feedback will say about them.
assert check("conv_forward_naive").passed, "conv_forward_naive: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### Aside: image processing with convolutions
#
# A convolution with hand-picked filters is a classic image-processing tool, and watching one at work is a
# good check of your forward pass. The cell below builds two filters by hand and applies them to a photograph
# and to its mirror image:
#
# * a **grayscale** filter that only looks at the centre pixel and mixes the red, green and blue channels
#   with the weights 0.3, 0.6 and 0.1;
# * an **edge** filter (a Sobel kernel) on the blue channel that responds where brightness changes from top
#   to bottom; its bias of 128 keeps the result positive so that it can be shown as an image.

# %%
image_size = 64 if SMALL_DATA else 200  # use a smaller size if this cell is slow
photo = sample_photo(image_size)  # (image_size, image_size, 3), uint8
x = np.stack([photo, photo[:, ::-1]]).transpose(0, 3, 1, 2).astype(np.float64)  # (2, 3, size, size)

w = np.zeros((2, 3, 3, 3))
w[0, :, 1, 1] = [0.3, 0.6, 0.1]  # grayscale: a weighted sum of the centre pixel's channels
w[1, 2] = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]  # horizontal edges of the blue channel
b = np.array([0.0, 128.0])
filtered, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})  # (2, 2, size, size)


def show_image(image, rescale=True):
    """Show an image without axes; rescale its values to 0..255 first unless asked not to."""
    image = np.asarray(image, dtype=np.float64)
    if rescale:
        image = 255.0 * (image - image.min()) / max(image.max() - image.min(), 1e-12)
    plt.imshow(image.astype(np.uint8))
    plt.axis("off")


for row in range(2):
    plt.subplot(2, 3, 3 * row + 1)
    show_image(x[row].transpose(1, 2, 0), rescale=False)  # (3, size, size) -> (size, size, 3)
    plt.title("original" if row == 0 else "")
    plt.subplot(2, 3, 3 * row + 2)
    show_image(filtered[row, 0])
    plt.title("grayscale" if row == 0 else "")
    plt.subplot(2, 3, 3 * row + 3)
    show_image(filtered[row, 1])
    plt.title("horizontal edges" if row == 0 else "")
plt.show()

# %% [markdown]
# ## Convolution: the naive backward pass
#
# Given the upstream gradient `dout` of shape (N, F, H', W'), compute the gradients with respect to the input,
# the filters and the biases. Each output value came from one patch of the padded input and one filter, so its
# gradient flows back to exactly those. Patches overlap whenever the stride is smaller than the filter, so
# contributions to the same input pixel must be added up, and the gradient that lands on the padding is
# simply dropped at the end.
#
# The test compares your result with a numeric gradient (centred differences). Errors around 1e-8 or smaller
# mean the gradient is right; errors near 1 mean it is not.

# %% solution="reference_impl.conv_naive.conv_backward_naive"

# %% test="conv_backward_naive"
np.random.seed(231)
x = np.random.randn(4, 3, 5, 5)
w = np.random.randn(2, 3, 3, 3)
b = np.random.randn(2)
dout = np.random.randn(4, 2, 5, 5)
conv_param = {"stride": 1, "pad": 1}
dx_num = eval_numerical_gradient_array(lambda x: conv_forward_naive(x, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_forward_naive(x, w, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_forward_naive(x, w, b, conv_param)[0], b, dout)
_, cache = conv_forward_naive(x, w, b, conv_param)
dx, dw, db = conv_backward_naive(dout, cache)
for name, analytic, numeric in [("dx", dx, dx_num), ("dw", dw, dw_num), ("db", db, db_num)]:
    assert np.shape(analytic) == numeric.shape, \
        f"conv_backward_naive: {name} has shape {np.shape(analytic)}, expected {numeric.shape}"
    error = rel_error(analytic, numeric)
    print(f"conv_backward_naive: {name} relative error {error:.2e}")
    assert error < 1e-6, f"conv_backward_naive: {name} does not match the numeric gradient (error {error:.2e})"
# The grader's visible cases of conv_backward_naive, run on your code: what your feedback will say about them.
assert check("conv_backward_naive").passed, "conv_backward_naive: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ## Max pooling: the naive forward pass
#
# Max pooling shrinks a feature map by keeping only the largest value of each window. A window of
# `pool_height` x `pool_width` moves `stride` pixels at a time over every channel separately, without padding,
# so the output has shape (N, C, H', W') with H' = 1 + (H - pool_height) // stride and
# W' = 1 + (W - pool_width) // stride. Windows may overlap (stride smaller than the window) and need not be
# square.

# %% solution="reference_impl.pool_naive.max_pool_forward_naive"

# %% test="max_pool_forward_naive"
x = {{ max_pool_forward_naive.x }}
x_before = x.copy()
out, _ = max_pool_forward_naive(x, {{ max_pool_forward_naive.pool_param }})
correct_out = {{ max_pool_forward_naive.out }}
assert out is not None and np.shape(out) == (2, 3, 2, 2), \
    f"max_pool_forward_naive: expected an output of shape (2, 3, 2, 2), got {np.shape(out)}"
error = rel_error(out, correct_out)
print(f"max_pool_forward_naive: relative error {error:.2e} (about 4e-8 is the rounding of the stored values)")
assert error < 1e-7, f"max_pool_forward_naive: relative error {error:.2e} against the fixed values is too large"
assert np.array_equal(x, x_before), "max_pool_forward_naive modified its input x"
# The grader's visible cases of max_pool_forward_naive, run on your code: what your feedback will say about them.
assert check("max_pool_forward_naive").passed, "max_pool_forward_naive: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ## Max pooling: the naive backward pass
#
# Only the largest element of each window influenced the output, so the upstream gradient of a window goes
# entirely to that one position and every other position of the window gets nothing. When windows overlap,
# one input pixel can be the maximum of several windows: its gradient is the sum of theirs.

# %% solution="reference_impl.pool_naive.max_pool_backward_naive"

# %% test="max_pool_backward_naive"
np.random.seed(231)
x = np.random.randn(3, 2, 8, 8)
dout = np.random.randn(3, 2, 4, 4)
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
dx_num = eval_numerical_gradient_array(lambda x: max_pool_forward_naive(x, pool_param)[0], x, dout)
_, cache = max_pool_forward_naive(x, pool_param)
dx = max_pool_backward_naive(dout, cache)
assert np.shape(dx) == x.shape, f"max_pool_backward_naive: dx has shape {np.shape(dx)}, expected {x.shape}"
error = rel_error(dx, dx_num)
print(f"max_pool_backward_naive: dx relative error {error:.2e} (expect about 1e-12)")
assert error < 1e-8, f"max_pool_backward_naive: dx does not match the numeric gradient (error {error:.2e})"
# The grader's visible cases of max_pool_backward_naive, run on your code: what your feedback will say about them.
assert check("max_pool_backward_naive").passed, "max_pool_backward_naive: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ## Fast layers
#
# Loops in Python are slow, so `convkit.fast_layers` provides `conv_forward_fast`, `conv_backward_fast`,
# `max_pool_forward_fast` and `max_pool_backward_fast`. They take the same arguments and return the same
# outputs as your naive versions; their caches hold different things, so always hand a cache back to the
# backward function of the same family. The fast convolution first copies every receptive field into one column of a large
# matrix (the *im2col* trick) and then does all the arithmetic in a single matrix product; the backward pass
# scatters the columns back (*col2im*). Max pooling with windows that tile the input becomes a reshape
# followed by a maximum over the new axes.
#
# im2col itself is faster when compiled: run `python setup.py build_ext --inplace` in this folder after
# `pip install cython setuptools`. The setup cell printed which version you are using (`cython` or `numpy`).
#
# The next cell times both versions on the same inputs and prints the speed-ups next to the largest
# difference between their results, which should be tiny (1e-9 or less).

# %%
def time_call(function, *args):
    """Run function(*args) once; return its result and the elapsed wall-clock time in seconds."""
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def largest_error(first, second):
    """Largest relative error between two results that are arrays or tuples of arrays."""
    if isinstance(first, tuple):
        return max(rel_error(a, b) for a, b in zip(first, second))
    return rel_error(first, second)


np.random.seed(231)
batch = 10 if SMALL_DATA else 100
x = np.random.randn(batch, 3, 31, 31)
w = np.random.randn(25, 3, 3, 3)
b = np.random.randn(25)
conv_param = {"stride": 2, "pad": 1}
pool_x = np.random.randn(batch, 3, 32, 32)
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

(out_naive, conv_cache_naive), conv_forward_naive_time = time_call(conv_forward_naive, x, w, b, conv_param)
(out_fast, conv_cache_fast), conv_forward_fast_time = time_call(conv_forward_fast, x, w, b, conv_param)
conv_dout = np.random.randn(*out_naive.shape)
grads_naive, conv_backward_naive_time = time_call(conv_backward_naive, conv_dout, conv_cache_naive)
grads_fast, conv_backward_fast_time = time_call(conv_backward_fast, conv_dout, conv_cache_fast)
(pool_naive, pool_cache_naive), pool_forward_naive_time = time_call(max_pool_forward_naive, pool_x, pool_param)
(pool_fast, pool_cache_fast), pool_forward_fast_time = time_call(max_pool_forward_fast, pool_x, pool_param)
pool_dout = np.random.randn(*pool_naive.shape)
pool_dx_naive, pool_backward_naive_time = time_call(max_pool_backward_naive, pool_dout, pool_cache_naive)
pool_dx_fast, pool_backward_fast_time = time_call(max_pool_backward_fast, pool_dout, pool_cache_fast)

rows = [("conv forward", conv_forward_naive_time, conv_forward_fast_time, largest_error(out_naive, out_fast)),
        ("conv backward", conv_backward_naive_time, conv_backward_fast_time, largest_error(grads_naive, grads_fast)),
        ("pool forward", pool_forward_naive_time, pool_forward_fast_time, largest_error(pool_naive, pool_fast)),
        ("pool backward", pool_backward_naive_time, pool_backward_fast_time,
         largest_error(pool_dx_naive, pool_dx_fast))]
print(f"{'layer':<15}{'naive (s)':>12}{'fast (s)':>12}{'speed-up':>11}{'difference':>13}")
for layer, naive_time, fast_time, difference in rows:
    print(f"{layer:<15}{naive_time:>12.4f}{fast_time:>12.4f}{naive_time / max(fast_time, 1e-9):>10.1f}x"
          f"{difference:>13.2e}")

# %% [markdown]
# ### Question: why is the naive convolution slow?
#
# Using the table above, explain in a few sentences where the naive convolution spends its time and why the
# im2col version is so much faster, even though both perform the same multiplications. Would the gap shrink
# or grow with larger images or more filters? (Written answers are graded by hand.)

# %% [markdown] answer="answer_naive_speed"
# The naive version runs its inner work in the Python interpreter, once per output position (or worse, per
# multiplication), paying interpreter overhead every time and handing NumPy only small arrays. im2col reorganises
# the data once and then calls a single matrix product, which runs in optimised, cache-friendly, multi-threaded
# BLAS code. The arithmetic is the same; the overhead per operation is not. The gap grows with larger inputs
# and more filters, because the number of Python-level iterations grows while the matrix product stays one call.

# %% [markdown]
# ## Sandwich layers
#
# Networks repeat the same few layer sequences, so `convkit.sandwich` bundles them: `conv_relu_forward` is a
# convolution followed by a ReLU, and `conv_relu_pool_forward` adds a max pool after that. Each has a matching
# backward function. They are built on the fast layers. The cells below check their gradients numerically;
# you should see errors of 1e-7 or smaller.

# %%
np.random.seed(231)
x = np.random.randn(2, 3, 16, 16)
w = np.random.randn(3, 3, 3, 3)
b = np.random.randn(3)
dout = np.random.randn(2, 3, 8, 8)
conv_param = {"stride": 1, "pad": 1}
pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
_, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
dx, dw, db = conv_relu_pool_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda x: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_relu_pool_forward(x, w, b, conv_param, pool_param)[0], b, dout)
print("conv_relu_pool relative errors:")
print(f"  dx {rel_error(dx, dx_num):.2e}, dw {rel_error(dw, dw_num):.2e}, db {rel_error(db, db_num):.2e}")

# %%
np.random.seed(231)
x = np.random.randn(2, 3, 8, 8)
w = np.random.randn(3, 3, 3, 3)
b = np.random.randn(3)
dout = np.random.randn(2, 3, 8, 8)
conv_param = {"stride": 1, "pad": 1}
_, cache = conv_relu_forward(x, w, b, conv_param)
dx, dw, db = conv_relu_backward(dout, cache)
dx_num = eval_numerical_gradient_array(lambda x: conv_relu_forward(x, w, b, conv_param)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: conv_relu_forward(x, w, b, conv_param)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: conv_relu_forward(x, w, b, conv_param)[0], b, dout)
print("conv_relu relative errors:")
print(f"  dx {rel_error(dx, dx_num):.2e}, dw {rel_error(dw, dw_num):.2e}, db {rel_error(db, db_num):.2e}")

# %% [markdown]
# ## A three-layer convolutional network
#
# Time to put the layers together. `ThreeLayerConvNet` has the architecture
#
# conv - relu - 2x2 max pool - affine - relu - affine - softmax
#
# The convolution uses stride 1 and just enough padding to keep the height and width of its input, and the
# pool halves them. Complete the class: the initialisation of its parameters in `__init__`, and the forward
# and backward passes in `loss`. Use the fast sandwich layers (`conv_relu_pool_forward`,
# `affine_relu_forward`, ...) rather than your naive ones; they compute the same thing much faster.

# %% solution="reference_impl.cnn.ThreeLayerConvNet"

# %% test="ThreeLayerConvNet"
# 1. Parameter shapes and initialisation.
model = ThreeLayerConvNet(input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100, num_classes=10,
                          weight_scale=1e-3, seed=0)
expected_shapes = {"W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,), "W3": (100, 10),
                   "b3": (10,)}
assert sorted(model.params) == sorted(expected_shapes), \
    f"ThreeLayerConvNet: params has keys {sorted(model.params)}, expected {sorted(expected_shapes)}"
for name, shape in expected_shapes.items():
    assert model.params[name].shape == shape, \
        f"ThreeLayerConvNet: params[{name!r}] has shape {model.params[name].shape}, expected {shape}"
    assert model.params[name].dtype == np.float32, f"ThreeLayerConvNet: params[{name!r}] should be float32"
# 2. Sanity check of the loss: small random weights give every class about the same score, so the softmax
#    loss is about log(10); the L2 term adds exactly 0.5 * reg * (sum of squared weights).
np.random.seed(231)
X = np.random.randn(50, 3, 32, 32)
y = np.random.randint(10, size=50)
scores = model.loss(X)
assert np.shape(scores) == (50, 10), f"ThreeLayerConvNet: scores have shape {np.shape(scores)}, expected (50, 10)"
loss, grads = model.loss(X, y)
print(f"initial loss without regularisation: {loss:.5f} (expect about {np.log(10):.5f})")
assert abs(loss - np.log(10)) < 0.01, f"ThreeLayerConvNet: initial loss {loss:.5f} should be close to log(10)"
model.reg = 0.5
loss_reg, _ = model.loss(X, y)
l2_term = 0.5 * 0.5 * sum(np.sum(model.params[w].astype(np.float64) ** 2) for w in ("W1", "W2", "W3"))
print(f"initial loss with reg=0.5: {loss_reg:.5f} (expect {loss + l2_term:.5f})")
assert abs(loss_reg - (loss + l2_term)) < 1e-4, \
    f"ThreeLayerConvNet: with reg=0.5 the loss should grow by {l2_term:.5f}, it grew by {loss_reg - loss:.5f}"
# 3. Gradient check on a small net in float64 (float32 is too coarse for numeric gradients).
np.random.seed(231)
X = np.random.randn(2, 3, 16, 16)
y = np.random.randint(10, size=2)
model = ThreeLayerConvNet(input_dim=(3, 16, 16), num_filters=3, filter_size=3, hidden_dim=7, weight_scale=1e-1,
                          dtype=np.float64, seed=1)
loss, grads = model.loss(X, y)
for name in sorted(model.params):
    numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], model.params[name], verbose=False, h=1e-6)
    error = rel_error(grads[name], numeric)
    print(f"{name}: relative error {error:.2e}")
    assert error < 1e-4, f"ThreeLayerConvNet: gradient of {name} does not match the numeric gradient ({error:.2e})"
# The grader's visible cases of ThreeLayerConvNet, run on your code: what your feedback will say about them.
assert check("ThreeLayerConvNet").passed, "ThreeLayerConvNet: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### Overfitting a small data set
#
# A network that can learn should be able to memorise a handful of images. Train on 100 training images only:
# the training accuracy should climb close to 100% while the validation accuracy stays low. That gap is
# overfitting, and here it is what we want to see. (Small-data mode trains a smaller net on 50 images.)

# %%
require_data(data)
np.random.seed(231)
if SMALL_DATA:
    num_images, net_size, epochs, batch_size = 50, dict(num_filters=8, filter_size=3), 10, 25
else:
    num_images, net_size, epochs, batch_size = 100, dict(num_filters=32, filter_size=7), 15, 50
small_data = {"X_train": data["X_train"][:num_images], "y_train": data["y_train"][:num_images],
              "X_val": data["X_val"], "y_val": data["y_val"]}
model = ThreeLayerConvNet(weight_scale=1e-2, **net_size)
solver = Solver(model, small_data, num_epochs=epochs, batch_size=batch_size, update_rule="adam",
                optim_config={"learning_rate": 1e-3}, verbose=True, print_every=10)
solver.train()
print(f"final training accuracy {solver.train_acc_history[-1]:.2f}, "
      f"validation accuracy {solver.val_acc_history[-1]:.2f}")
plot_training_history(solver)
plt.show()

# %% [markdown]
# ### Training for one epoch
#
# Now train on the whole training set for one epoch. Expect a training accuracy above 40%. It is skipped in
# small-data mode. The cell then shows the first-layer filters of the trained network, one small colour image
# per filter.
#
# **How long it takes** (measured on a 2-core machine with the provided fast layers, NumPy's matrix products on
# one thread): about 1 minute with the compiled extension and about 1.5 minutes without it. The overfitting
# cell above took about 4 seconds (9 without the extension), and the reference solution's 6-epoch experiment
# about 8 minutes (10 without). An older or busier machine is slower. On a machine busy with other work, letting NumPy use
# several threads made the same epoch up to ten times slower; if training crawls, start Jupyter with
# `OMP_NUM_THREADS=1 jupyter notebook` (on Windows: `set OMP_NUM_THREADS=1` first).

# %%
if SMALL_DATA:
    print("small-data mode: one-epoch training skipped")
else:
    require_data(data)
    model = ThreeLayerConvNet(weight_scale=1e-3, hidden_dim=500, reg=1e-3)
    solver = Solver(model, data, num_epochs=1, batch_size=50, update_rule="adam",
                    optim_config={"learning_rate": 1e-3}, verbose=True, print_every=50)
    solver.train()
    grid = visualize_grid(model.params["W1"].transpose(0, 2, 3, 1))  # (F, C, HH, WW) -> (F, HH, WW, C)
    plt.imshow(grid.astype(np.uint8))
    plt.axis("off")
    plt.gcf().set_size_inches(5, 5)
    plt.show()

# %% [markdown]
# ### Question: what did the first layer learn?
#
# Describe the first-layer filters you see after training. What kinds of patterns do they respond to, and why
# would a first layer learn detectors like these? How do they differ from the random filters the network
# started with? (Written answers are graded by hand.)

# %% [markdown] answer="answer_filters"
# After one epoch many filters look like oriented edge and bar detectors (light next to dark at various
# angles), and several are colour-opponent blobs (e.g. green against magenta). Edges and colour contrasts are
# the simplest local patterns that separate object parts from background, and every later layer is built from
# the first layer's responses, so gradient descent favours these general-purpose detectors. The initial random
# filters were unstructured noise.

# %% [markdown]
# ## Spatial batch normalisation
#
# Batch normalisation for fully connected layers normalises each of the D features of an (N, D) batch with
# that feature's mean and variance over the batch. Feature maps from a convolution have shape (N, C, H, W), and
# one channel applies the same filter at every position, so its values at all positions are samples of one
# feature. *Spatial* batch normalisation therefore computes one mean and one variance per channel, over the
# batch and both spatial dimensions, and learns one scale and one shift per channel (`gamma` and `beta` of
# shape (C,)).
#
# You can reuse `batchnorm_forward` and `batchnorm_backward` from `convkit` (already imported). The trick is to
# rearrange the data so that each row is one pixel of one image and each column is one channel. Be careful with
# the order of the axes: a reshape alone would mix channels together.

# %% solution="reference_impl.spatial_norm.spatial_batchnorm_forward"

# %% test="spatial_batchnorm_forward"
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 4 * np.random.randn(N, C, H, W) + 10
x_before = x.copy()
out, _ = spatial_batchnorm_forward(x, np.ones(C), np.zeros(C), {"mode": "train"})
assert np.shape(out) == x.shape, f"spatial_batchnorm_forward: output shape {np.shape(out)}, expected {x.shape}"
means, stds = out.mean(axis=(0, 2, 3)), out.std(axis=(0, 2, 3))
print(f"gamma=1, beta=0: per-channel means {means}, stds {stds}")
assert np.allclose(means, 0, atol=1e-7), f"spatial_batchnorm_forward: channel means {means} should be 0"
assert np.allclose(stds, 1, atol=1e-4), f"spatial_batchnorm_forward: channel stds {stds} should be about 1"
gamma, beta = {{ spatial_batchnorm_forward.gamma }}, {{ spatial_batchnorm_forward.beta }}
out, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
means, stds = out.mean(axis=(0, 2, 3)), out.std(axis=(0, 2, 3))
print(f"gamma=[3, 4, 5], beta=[6, 7, 8]: per-channel means {means}, stds {stds}")
assert np.allclose(means, beta, atol=1e-6), f"spatial_batchnorm_forward: channel means {means} should equal beta"
assert np.allclose(stds, gamma, atol=1e-3), f"spatial_batchnorm_forward: channel stds {stds} should equal gamma"
assert np.array_equal(x, x_before), "spatial_batchnorm_forward modified its input x"
# The grader's visible cases of spatial_batchnorm_forward, run on your code: what your feedback will say about them.
assert check("spatial_batchnorm_forward").passed, "spatial_batchnorm_forward: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# At test time batch normalisation uses the running averages of the mean and variance collected during
# training instead of the statistics of the current batch. The next cell warms the running averages up with
# 50 training-mode passes over random batches, then normalises a fresh batch in test mode. The means should
# be near 0 and the standard deviations near 1, though less exactly than in training mode.

# %%
np.random.seed(231)
N, C, H, W = 10, 4, 11, 12
bn_param = {"mode": "train"}
gamma, beta = np.ones(C), np.zeros(C)
for _ in range(50):
    spatial_batchnorm_forward(2.3 * np.random.randn(N, C, H, W) + 13, gamma, beta, bn_param)
bn_param["mode"] = "test"
out, _ = spatial_batchnorm_forward(2.3 * np.random.randn(N, C, H, W) + 13, gamma, beta, bn_param)
print(f"test mode after warm-up: per-channel means {out.mean(axis=(0, 2, 3))}")
print(f"                         per-channel stds  {out.std(axis=(0, 2, 3))}")

# %% [markdown]
# ### Spatial batch normalisation: backward
#
# The backward pass mirrors the forward pass: rearrange the upstream gradient the same way, call the
# fully connected backward pass, and undo the rearrangement.

# %% solution="reference_impl.spatial_norm.spatial_batchnorm_backward"

# %% test="spatial_batchnorm_backward"
np.random.seed(231)
N, C, H, W = 2, 3, 4, 5
x = 5 * np.random.randn(N, C, H, W) + 12
gamma = np.random.randn(C)
beta = np.random.randn(C)
dout = np.random.randn(N, C, H, W)
bn_param = {"mode": "train"}
dx_num = eval_numerical_gradient_array(lambda x: spatial_batchnorm_forward(x, gamma, beta, bn_param)[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda g: spatial_batchnorm_forward(x, g, beta, bn_param)[0], gamma,
                                           dout)
dbeta_num = eval_numerical_gradient_array(lambda b: spatial_batchnorm_forward(x, gamma, b, bn_param)[0], beta,
                                          dout)
_, cache = spatial_batchnorm_forward(x, gamma, beta, bn_param)
dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
for name, analytic, numeric in [("dx", dx, dx_num), ("dgamma", dgamma, dgamma_num), ("dbeta", dbeta, dbeta_num)]:
    assert np.shape(analytic) == numeric.shape, \
        f"spatial_batchnorm_backward: {name} has shape {np.shape(analytic)}, expected {numeric.shape}"
    error = rel_error(analytic, numeric)
    print(f"spatial_batchnorm_backward: {name} relative error {error:.2e}")
    assert error < 1e-5, f"spatial_batchnorm_backward: {name} does not match the numeric gradient ({error:.2e})"
# The grader's visible cases of spatial_batchnorm_backward, run on your code: what your feedback will say about them.
assert check("spatial_batchnorm_backward").passed, "spatial_batchnorm_backward: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ## Spatial group normalisation
#
# Batch normalisation needs a reasonably large batch: with two or three images per batch its statistics are
# too noisy, and at test time it behaves differently from training. *Group normalisation* (Wu and He, 2018)
# avoids the batch altogether. It splits the C channels of each image into G groups of C / G consecutive
# channels and normalises each group of each image over its channels and pixels. With G = 1 it is layer
# normalisation; with G = C each channel of each image is normalised on its own. As in batch normalisation, a
# learned scale and shift per channel follow (`gamma` and `beta` of shape (1, C, 1, 1)). The same computation
# runs in training and testing.

# %% solution="reference_impl.spatial_norm.spatial_groupnorm_forward"

# %% test="spatial_groupnorm_forward"
np.random.seed(231)
N, C, H, W, G = 2, 6, 4, 5, 2
x = 4 * np.random.randn(N, C, H, W) + 10
x_before = x.copy()
out, _ = spatial_groupnorm_forward(x, np.ones((1, C, 1, 1)), np.zeros((1, C, 1, 1)), G, {})
assert np.shape(out) == x.shape, f"spatial_groupnorm_forward: output shape {np.shape(out)}, expected {x.shape}"
groups = out.reshape(N, G, -1)  # (N, G, C/G * H * W): one row per group of each image
means, stds = groups.mean(axis=2), groups.std(axis=2)
print(f"per-group means\n{means}\nper-group stds\n{stds}")
assert np.allclose(means, 0, atol=1e-7), f"spatial_groupnorm_forward: group means {means.ravel()} should be 0"
assert np.allclose(stds, 1, atol=1e-4), f"spatial_groupnorm_forward: group stds {stds.ravel()} should be about 1"
assert np.array_equal(x, x_before), "spatial_groupnorm_forward modified its input x"
# The grader's visible cases of spatial_groupnorm_forward, run on your code: what your feedback will say about them.
assert check("spatial_groupnorm_forward").passed, "spatial_groupnorm_forward: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ### Spatial group normalisation: backward
#
# Write the backward pass. The gradients of `gamma` and `beta` have the shape (1, C, 1, 1) of the parameters;
# the gradient of `x` follows the same steps as the batch normalisation backward pass, but with statistics per
# group of each image instead of per channel.

# %% solution="reference_impl.spatial_norm.spatial_groupnorm_backward"

# %% test="spatial_groupnorm_backward"
np.random.seed(231)
N, C, H, W, G = 2, 6, 4, 5, 2
x = 5 * np.random.randn(N, C, H, W) + 12
gamma = np.random.randn(1, C, 1, 1)
beta = np.random.randn(1, C, 1, 1)
dout = np.random.randn(N, C, H, W)
gn_param = {}
dx_num = eval_numerical_gradient_array(lambda x: spatial_groupnorm_forward(x, gamma, beta, G, gn_param)[0], x, dout)
dgamma_num = eval_numerical_gradient_array(lambda g: spatial_groupnorm_forward(x, g, beta, G, gn_param)[0], gamma,
                                           dout)
dbeta_num = eval_numerical_gradient_array(lambda b: spatial_groupnorm_forward(x, gamma, b, G, gn_param)[0], beta,
                                          dout)
_, cache = spatial_groupnorm_forward(x, gamma, beta, G, gn_param)
dx, dgamma, dbeta = spatial_groupnorm_backward(dout, cache)
for name, analytic, numeric in [("dx", dx, dx_num), ("dgamma", dgamma, dgamma_num), ("dbeta", dbeta, dbeta_num)]:
    assert np.shape(analytic) == numeric.shape, \
        f"spatial_groupnorm_backward: {name} has shape {np.shape(analytic)}, expected {numeric.shape}"
    error = rel_error(analytic, numeric)
    print(f"spatial_groupnorm_backward: {name} relative error {error:.2e}")
    assert error < 1e-5, f"spatial_groupnorm_backward: {name} does not match the numeric gradient ({error:.2e})"
# The grader's visible cases of spatial_groupnorm_backward, run on your code: what your feedback will say about them.
assert check("spatial_groupnorm_backward").passed, "spatial_groupnorm_backward: see the failed cases above"
### BEGIN HIDDEN TESTS
{{ grader.cases }}
### END HIDDEN TESTS

# %% [markdown]
# ## Experiment: train the best network you can
#
# Your goal is a model with **at least 65% accuracy on the CIFAR-10 validation set**. Credit scales with the
# validation accuracy of the model you save below, up to full credit at 65%.
#
# **What the grader evaluates.** The last cells save your model's parameters and constructor arguments to
# `experiment_model.npz` next to this notebook, and you submit that file with the notebook. The grader rebuilds
# the model from it and measures its accuracy itself; it never retrains. For now it can only rebuild a
# `ThreeLayerConvNet`, so tune that architecture (number and size of filters, hidden units, regularisation,
# initialisation scale) together with the training settings. You are welcome to explore other architectures in
# extra cells, but only a `ThreeLayerConvNet` can be saved for grading.
#
# **Tips.**
#
# * Smaller filters (3x3 or 5x5) are cheaper than 7x7 and often work better; more filters usually help.
# * Tune the learning rate first, then the regularisation. Search coarse to fine: first many settings for a few
#   hundred iterations each, keeping only those that make progress quickly, then longer runs around the best.
# * If the loss does not fall within a few hundred iterations, the learning rate is probably wrong.
# * Decay the learning rate between epochs (`lr_decay`), and use Adam as a robust default.
# * Watch the gap between training and validation accuracy: a large gap calls for more regularisation,
#   a small gap with low accuracy for a bigger model or longer training.
# * Checkpoints (`checkpoint_name=...` in the Solver) let you stop and resume long runs.
#
# Put your training code inside the marked region of the next cell. It must leave the trained model in
# `best_model` and the constructor arguments that rebuild it in `best_model_kwargs`, so that
# `ThreeLayerConvNet(**best_model_kwargs)` has parameters of the same shapes. Grading never runs this cell's
# training (it is skipped in small-data mode), so it may take as long as you like: each epoch of a network
# like the one-epoch run above takes about as long as that run.

# %% student_code="experiment"
best_model, best_model_kwargs = None, {}
if SMALL_DATA:
    print("small-data mode: experiment training skipped; the grader evaluates the saved file")
else:
    require_data(data)
    ### BEGIN SOLUTION
    best_model_kwargs = dict(num_filters=64, filter_size=3, hidden_dim=500, weight_scale=1e-2, reg=1e-3)
    best_model = ThreeLayerConvNet(**best_model_kwargs)
    experiment_solver = Solver(best_model, data, num_epochs=6, batch_size=100, update_rule="adam",
                               optim_config={"learning_rate": 1e-3}, lr_decay=0.8, verbose=True, print_every=100,
                               checkpoint_name="experiment")
    experiment_solver.train()
    print(f"best validation accuracy: {experiment_solver.best_val_acc:.3f}")
    plot_training_history(experiment_solver)
    plt.show()
    ### END SOLUTION

# %% [markdown]
# Describe what you tried here: the architectures and hyperparameters, what worked and what did not, and
# anything you added beyond the provided code. Include the validation accuracy of your final model.

# %% readonly="save_experiment"
if best_model is not None:
    require_data(data)
    save_experiment_model(EXPERIMENT_FILE, best_model, "ThreeLayerConvNet", **best_model_kwargs)
    val_accuracy = np.mean(np.argmax(best_model.loss(data["X_val"]), axis=1) == data["y_val"])
    print(f"saved {EXPERIMENT_FILE}; validation accuracy {val_accuracy:.3f}")
elif SMALL_DATA:
    print(f"small-data mode: nothing trained here, {EXPERIMENT_FILE} is left as it is")
else:
    require_data(data)
    raise NotImplementedError("the experiment cell did not set best_model, so there is nothing to save")

# %% test="experiment"
# The grader scores the experiment from the saved file; this cell only checks that the file can be used.
assert os.path.isfile(EXPERIMENT_FILE), f"{EXPERIMENT_FILE} is missing: run the experiment and the cell that saves it"
saved_name, saved_kwargs, saved_params = load_experiment_model(EXPERIMENT_FILE)
rebuilt = ThreeLayerConvNet(**saved_kwargs)
for name, value in rebuilt.params.items():
    assert name in saved_params and saved_params[name].shape == value.shape, \
        f"{EXPERIMENT_FILE}: parameter {name!r} is missing or has the wrong shape for ThreeLayerConvNet(**kwargs)"
print(f"{EXPERIMENT_FILE}: {saved_name} with {saved_kwargs}, {len(saved_params)} parameter arrays")
