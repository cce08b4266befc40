"""The three-layer convnet as a ``torch.nn.Module`` subclass: layers as attributes, the forward pass by hand.

Same network as ``torch_barebones.three_layer_convnet``; ``nn.Conv2d`` and ``nn.Linear`` hold the parameters
(note ``nn.Linear`` stores its weight as (num_classes, D), the transpose of the barebones ``fc_w``).
"""
import torch.nn as nn
import torch.nn.functional as F


class ThreeLayerConvNet(nn.Module):
    """conv 5x5 (pad 2) - ReLU - conv 3x3 (pad 1) - ReLU - fully connected, with Kaiming-normal weights.

    Inputs to the constructor: in_channel (C), channel_1, channel_2 (filter counts), num_classes, and
    image_size (H, W) of the inputs (the fully connected layer sees channel_2 * H * W features).
    Attributes: conv1 (Conv2d, weight (channel_1, C, 5, 5)), conv2 (Conv2d, weight (channel_2, channel_1, 3, 3)),
    fc (Linear, weight (num_classes, channel_2 * H * W)); every weight N(0, 2 / fan_in), every bias zero.
    forward(x): x (N, C, H, W) -> scores (N, num_classes).
    """

    def __init__(self, in_channel, channel_1, channel_2, num_classes, image_size=(32, 32)):
        super().__init__()
        height, width = image_size
        ### BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1)
        self.fc = nn.Linear(channel_2 * height * width, num_classes)
        for layer in (self.conv1, self.conv2, self.fc):
            nn.init.kaiming_normal_(layer.weight)  # fan_in mode, ReLU gain: std sqrt(2 / fan_in)
            nn.init.zeros_(layer.bias)
        ### END SOLUTION

    def forward(self, x):
        scores = None
        ### BEGIN SOLUTION
        hidden = F.relu(self.conv2(F.relu(self.conv1(x))))  # (N, channel_2, H, W)
        scores = self.fc(hidden.flatten(start_dim=1))  # (N, channel_2 * H * W) -> (N, num_classes)
        ### END SOLUTION
        return scores
