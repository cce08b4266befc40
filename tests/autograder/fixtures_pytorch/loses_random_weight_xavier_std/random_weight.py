def random_weight(shape, device="cpu", dtype=DTYPE):
    if len(shape) not in (2, 4):
        raise ValueError("2 or 4 dimensions")
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    fan_out = shape[1] if len(shape) == 2 else shape[0]
    w = torch.randn(shape, device=device, dtype=dtype) * np.sqrt(2.0 / (fan_in + fan_out))  # Xavier, not Kaiming
    return w.requires_grad_()
