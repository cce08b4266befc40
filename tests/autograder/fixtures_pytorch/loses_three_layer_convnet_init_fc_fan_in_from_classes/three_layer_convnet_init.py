def three_layer_convnet_init(input_dim=(3, 32, 32), channel_1=32, channel_2=16, num_classes=10, device="cpu",
                             dtype=DTYPE):
    C, H, W = input_dim
    fc_w = torch.randn(channel_2 * H * W, num_classes, device=device, dtype=dtype) * np.sqrt(2.0 / num_classes)
    return [random_weight((channel_1, C, 5, 5), device, dtype), zero_weight((channel_1,), device, dtype),
            random_weight((channel_2, channel_1, 3, 3), device, dtype), zero_weight((channel_2,), device, dtype),
            fc_w.requires_grad_(), zero_weight((num_classes,), device, dtype)]
