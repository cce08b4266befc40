"""Moving arrays between TensorFlow's layouts and the NumPy layers' layouts.

TensorFlow keeps images channels-last (NHWC) and convolution kernels as (height, width, in, out) (HWIO); the kit's
NumPy layers and PyTorch use NCHW images and (out, in, height, width) (OIHW) kernels. Flattening a feature map
also depends on the layout: an NHWC flatten walks the channels fastest, an NCHW flatten the columns, so the
rows of a fully connected weight matrix that follows a flatten have to be permuted, not just the images.

NumPy only, so the grader can convert without importing a framework. Every function returns a new array and
never modifies its input.
"""
import numpy as np


def _check_ndim(array, ndim, name, layout):
    array = np.asarray(array)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array in {layout} layout, got shape {array.shape}")
    return array


def nhwc_to_nchw(x):
    """Images (N, H, W, C) -> (N, C, H, W)."""
    x = _check_ndim(x, 4, "x", "NHWC")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))  # (N, H, W, C) -> (N, C, H, W)


def nchw_to_nhwc(x):
    """Images (N, C, H, W) -> (N, H, W, C)."""
    x = _check_ndim(x, 4, "x", "NCHW")
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (N, C, H, W) -> (N, H, W, C)


def hwio_to_oihw(w):
    """Convolution kernels (KH, KW, C_in, C_out) -> (C_out, C_in, KH, KW)."""
    w = _check_ndim(w, 4, "w", "HWIO")
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1))  # (KH, KW, C_in, C_out) -> (C_out, C_in, KH, KW)


def oihw_to_hwio(w):
    """Convolution kernels (C_out, C_in, KH, KW) -> (KH, KW, C_in, C_out)."""
    w = _check_ndim(w, 4, "w", "OIHW")
    return np.ascontiguousarray(w.transpose(2, 3, 1, 0))  # (C_out, C_in, KH, KW) -> (KH, KW, C_in, C_out)


def _check_fc(fc_w, height, width, channels):
    fc_w = _check_ndim(fc_w, 2, "fc_w", "(features, classes)")
    sizes = (height, width, channels)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in sizes):
        raise ValueError(f"height, width and channels must be positive ints, got {sizes}")
    if fc_w.shape[0] != height * width * channels:
        raise ValueError(f"fc_w has {fc_w.shape[0]} rows but a {height}x{width}x{channels} feature map "
                         f"flattens to {height * width * channels} features")
    return fc_w


def fc_rows_nhwc_to_nchw(fc_w, *, height, width, channels):
    """Reorder the rows of a fully connected weight matrix from an NHWC flatten to an NCHW flatten.

    Row h*W*C + w*C + c of the input (the feature at row h, column w, channel c of an NHWC flatten) becomes row
    c*H*W + h*W + w, so that flatten_nchw(features) @ result equals flatten_nhwc(features) @ fc_w.

    Inputs: fc_w (H*W*C, K); the feature map's height, width and channels (keywords, so they cannot be swapped).
    Returns: (C*H*W, K) array of fc_w's dtype.
    """
    fc_w = _check_fc(fc_w, height, width, channels)
    classes = fc_w.shape[1]
    rows = fc_w.reshape(height, width, channels, classes)  # (H*W*C, K) -> (H, W, C, K)
    return np.ascontiguousarray(rows.transpose(2, 0, 1, 3).reshape(channels * height * width, classes))


def fc_rows_nchw_to_nhwc(fc_w, *, height, width, channels):
    """The inverse of ``fc_rows_nhwc_to_nchw``: rows of an NCHW flatten (C*H*W, K) -> an NHWC flatten (H*W*C, K)."""
    fc_w = _check_fc(fc_w, height, width, channels)
    classes = fc_w.shape[1]
    rows = fc_w.reshape(channels, height, width, classes)  # (C*H*W, K) -> (C, H, W, K)
    return np.ascontiguousarray(rows.transpose(1, 2, 0, 3).reshape(height * width * channels, classes))


def _feature_map_size(image_hw, kernel_1_hw, kernel_2_hw):
    """Height and width after conv(pad 2) then conv(pad 1), both with stride 1."""
    height = image_hw[0] + 2 * 2 - kernel_1_hw[0] + 1 + 2 * 1 - kernel_2_hw[0] + 1
    width = image_hw[1] + 2 * 2 - kernel_1_hw[1] + 1 + 2 * 1 - kernel_2_hw[1] + 1
    if height < 1 or width < 1:
        raise ValueError(f"images of size {tuple(image_hw)} are too small for kernels {tuple(kernel_1_hw)} "
                         f"and {tuple(kernel_2_hw)}")
    return height, width


def three_layer_params_tf_to_numpy(params, image_hw):
    """The barebones three-layer convnet's parameters from TensorFlow's layout to the NumPy layers' layout.

    Inputs: params [conv_w1 (KH1, KW1, C, F1), conv_b1 (F1,), conv_w2 (KH2, KW2, F1, F2), conv_b2 (F2,),
    fc_w (H2*W2*F2, K), fc_b (K,)] as arrays (anything np.asarray accepts); image_hw (H, W) of the input
    images, which fixes the size H2 x W2 of the feature map that the fully connected layer sees.
    Returns: list [conv_w1 (F1, C, KH1, KW1), conv_b1, conv_w2 (F2, F1, KH2, KW2), conv_b2,
    fc_w (F2*H2*W2, K), fc_b] for an NCHW network.
    """
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = (np.asarray(p) for p in params)
    conv_w1, conv_w2 = _check_ndim(conv_w1, 4, "conv_w1", "HWIO"), _check_ndim(conv_w2, 4, "conv_w2", "HWIO")
    height, width = _feature_map_size(image_hw, conv_w1.shape[:2], conv_w2.shape[:2])
    fc_w = fc_rows_nhwc_to_nchw(fc_w, height=height, width=width, channels=conv_w2.shape[3])
    return [hwio_to_oihw(conv_w1), conv_b1.copy(), hwio_to_oihw(conv_w2), conv_b2.copy(), fc_w, fc_b.copy()]


def three_layer_params_numpy_to_tf(params, image_hw):
    """The inverse of ``three_layer_params_tf_to_numpy``: NCHW/OIHW parameters -> TensorFlow's NHWC/HWIO."""
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = (np.asarray(p) for p in params)
    conv_w1, conv_w2 = _check_ndim(conv_w1, 4, "conv_w1", "OIHW"), _check_ndim(conv_w2, 4, "conv_w2", "OIHW")
    height, width = _feature_map_size(image_hw, conv_w1.shape[2:], conv_w2.shape[2:])
    fc_w = fc_rows_nchw_to_nhwc(fc_w, height=height, width=width, channels=conv_w2.shape[0])
    return [oihw_to_hwio(conv_w1), conv_b1.copy(), oihw_to_hwio(conv_w2), conv_b2.copy(), fc_w, fc_b.copy()]
