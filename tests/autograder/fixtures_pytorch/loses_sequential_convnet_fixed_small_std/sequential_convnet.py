def sequential_convnet(in_channel=3, channel_1=16, channel_2=32, num_classes=10, image_size=(32, 32)):
    height, width = image_size
    model = nn.Sequential(
        nn.Conv2d(in_channel, channel_1, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.Conv2d(channel_1, channel_2, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(channel_2 * height * width, num_classes),
    )
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(layer.weight, std=0.01)  # a fixed small std instead of Kaiming's
            nn.init.zeros_(layer.bias)
    return model
