"""The three-layer convnet as an ``nn.Sequential`` stack, and its SGD optimiser with Nesterov momentum."""
import torch
import torch.nn as nn


def sequential_convnet(in_channel=3, channel_1=16, channel_2=32, num_classes=10, image_size=(32, 32)):
    """conv 5x5 (pad 2) - ReLU - conv 3x3 (pad 1) - ReLU - flatten - fully connected, as one nn.Sequential.

    Weights are Kaiming normal (std sqrt(2 / fan_in)), biases zero, as in ``ThreeLayerConvNet``.

    Inputs: in_channel (C), channel_1, channel_2 (filter counts), num_classes, image_size (H, W).
    Returns: nn.Sequential of Conv2d, ReLU, Conv2d, ReLU, Flatten, Linear (indices 0 .. 5) mapping
    (N, C, H, W) images to (N, num_classes) scores; the Linear weight is (num_classes, channel_2 * H * W).
    """
    height, width = image_size
    model = None
    ### BEGIN SOLUTION
    model = nn.Sequential(
        nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2),  # (N, channel_1, H, W)
        nn.ReLU(),
        nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1),  # (N, channel_2, H, W)
        nn.ReLU(),
        nn.Flatten(),  # (N, channel_2 * H * W)
        nn.Linear(channel_2 * height * width, num_classes),
    )
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
    ### END SOLUTION
    return model


def nesterov_sgd(parameters, learning_rate):
    """Stochastic gradient descent with Nesterov momentum 0.9 over the given parameters.

    Inputs: parameters, an iterable of tensors (usually ``model.parameters()``); learning_rate, a float.
    Returns: a torch.optim.SGD optimiser.
    """
    optimizer = None
    ### BEGIN SOLUTION
    optimizer = torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9, nesterov=True)
    ### END SOLUTION
    return optimizer
