"""ThreeLayerConvNet: the graded model, conv - relu - 2x2 max pool - affine - relu - affine - softmax.

The notebook copies the class definition alone into a solution cell, so everything it uses is either a
method of the class or a name the notebook's setup cell imports (numpy as np and the layers below).
"""
import numpy as np

from .fc_layers import affine_backward, affine_forward
from .losses import softmax_loss
from .sandwich import affine_relu_backward, affine_relu_forward, conv_relu_pool_backward, conv_relu_pool_forward


class ThreeLayerConvNet:
    """A three-layer convolutional network for images of shape (C, H, W).

    Architecture::

        conv (F filters, filter_size x filter_size, stride 1, pad (filter_size - 1) // 2) - relu
        - 2x2 max pool, stride 2 - affine (hidden_dim) - relu - affine (num_classes) - softmax

    The convolution keeps the spatial size H x W; the pool halves it to H/2 x W/2.

    Parameters
    ----------
    input_dim : tuple of 3 ints
        (C, H, W) of one input image; H and W even (for the 2x2 pool).
    num_filters : int
        F, the number of convolution filters.
    filter_size : int
        Odd width and height of each filter (odd so that the padding keeps the spatial size).
    hidden_dim : int
        Units in the hidden affine layer.
    num_classes : int
        Number of scores produced.
    weight_scale : float
        Standard deviation of the Gaussian initial weights; biases start at zero.
    reg : float
        L2 regularisation strength; the loss adds 0.5 * reg * sum of squared weights (W1, W2, W3).
    dtype : numpy floating dtype
        Dtype of all parameters and computations (float64 for gradient checks).
    seed : int or None
        None draws the initial weights from numpy's global generator (``np.random.randn``, as in the
        original assignment); an int draws them from ``np.random.default_rng(seed)`` instead.

    Attributes
    ----------
    params : dict
        'W1' (F, C, filter_size, filter_size), 'b1' (F,), 'W2' (F * H/2 * W/2, hidden_dim), 'b2' (hidden_dim,),
        'W3' (hidden_dim, num_classes), 'b3' (num_classes,).
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float32, seed=None):
        self._check_arguments(input_dim, num_filters, filter_size, hidden_dim, num_classes, weight_scale, reg,
                              dtype)
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        self.input_dim = tuple(int(d) for d in input_dim)
        # randn(*shape) draws standard normal samples: the global np.random.randn unless a seed was given.
        if seed is None:
            randn = np.random.randn
        else:
            generator = np.random.default_rng(seed)

            def randn(*shape):
                return generator.standard_normal(shape)

        ############################################################################
        # Initialise the weights and biases of the network in self.params:         #
        # 'W1', 'b1' for the convolution, 'W2', 'b2' for the hidden affine layer,  #
        # 'W3', 'b3' for the output layer. Weights ~ N(0, weight_scale**2) (use    #
        # randn above), biases zero. The conv keeps the spatial size and the pool  #
        # halves it, so the hidden layer sees num_filters * H/2 * W/2 inputs.      #
        ############################################################################
        ### BEGIN SOLUTION
        C, H, W = input_dim
        pooled_size = num_filters * (H // 2) * (W // 2)
        self.params["W1"] = weight_scale * randn(num_filters, C, filter_size, filter_size)
        self.params["b1"] = np.zeros(num_filters)
        self.params["W2"] = weight_scale * randn(pooled_size, hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)
        ### END SOLUTION

        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)

    @staticmethod
    def _check_arguments(input_dim, num_filters, filter_size, hidden_dim, num_classes, weight_scale, reg, dtype):
        """Raise a specific ValueError/TypeError for a constructor argument that cannot work."""
        def is_int(v):
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        if not (isinstance(input_dim, (tuple, list)) and len(input_dim) == 3
                and all(is_int(d) and d > 0 for d in input_dim)):
            raise ValueError(f"input_dim must be three positive ints (C, H, W), got {input_dim!r}")
        for name, value in (("num_filters", num_filters), ("filter_size", filter_size),
                            ("hidden_dim", hidden_dim), ("num_classes", num_classes)):
            if not (is_int(value) and value > 0):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if filter_size % 2 == 0:
            raise ValueError(f"filter_size must be odd so that padding (filter_size - 1) // 2 keeps the spatial "
                             f"size, got {filter_size}")
        _, H, W = input_dim
        if H % 2 or W % 2:
            raise ValueError(f"input height and width must be even for the 2x2 max pool, got H={H}, W={W}")
        if not (np.isscalar(weight_scale) and weight_scale >= 0):
            raise ValueError(f"weight_scale must be a non-negative number, got {weight_scale!r}")
        if not (np.isscalar(reg) and reg >= 0):
            raise ValueError(f"reg must be a non-negative number, got {reg!r}")
        try:
            floating = np.issubdtype(np.dtype(dtype), np.floating)
        except TypeError:
            floating = False
        if not floating:
            raise TypeError(f"dtype must be a numpy floating type such as np.float32, got {dtype!r}")

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        Parameters
        ----------
        X : ndarray, shape (N, C, H, W)
            Input images, shaped like ``input_dim``; computed in ``self.dtype``.
        y : ndarray of int, shape (N,), or None
            Labels in 0..num_classes-1.

        Returns
        -------
        If y is None: scores, ndarray of shape (N, num_classes), dtype ``self.dtype``.
        Otherwise (loss, grads): loss is a float (softmax data loss + 0.5 * reg * sum of squared weights);
        grads is a dict with the same keys and shapes as ``self.params``.
        """
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[1:] != self.input_dim:
            raise ValueError(f"X must have shape (N, {', '.join(map(str, self.input_dim))}), got {X.shape}")
        X = X.astype(self.dtype, copy=False)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]

        # Stride 1 and this padding keep the input's spatial size through the convolution.
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        scores = None
        ############################################################################
        # Forward pass: compute the class scores for X into `scores`. Use the     #
        # provided layers (conv_relu_pool_forward, affine_relu_forward,           #
        # affine_forward) and keep their caches for the backward pass.            #
        ############################################################################
        ### BEGIN SOLUTION
        pooled, conv_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)  # (N, F, H/2, W/2)
        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)  # (N, hidden_dim)
        scores, scores_cache = affine_forward(hidden, W3, b3)  # (N, num_classes)
        ### END SOLUTION

        if y is None:
            return scores

        loss, grads = 0, {}
        ############################################################################
        # Backward pass: the softmax loss plus 0.5 * self.reg * (sum of squared   #
        # W1, W2, W3) into `loss`, and the gradient of that loss for every        #
        # parameter into grads (same keys as self.params).                        #
        ############################################################################
        ### BEGIN SOLUTION
        data_loss, dscores = softmax_loss(scores, y)
        weights = ("W1", "W2", "W3")
        loss = data_loss + 0.5 * self.reg * sum(float(np.sum(self.params[w] ** 2)) for w in weights)
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, conv_cache)
        for w in weights:
            grads[w] = grads[w] + self.reg * self.params[w]
        ### END SOLUTION

        return loss, grads
