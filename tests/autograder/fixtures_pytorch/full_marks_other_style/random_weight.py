def random_weight(shape, device="cpu", dtype=DTYPE):
    if len(shape) not in (2, 4):
        raise ValueError("2 or 4 dimensions")
    fan_in = shape[0] if len(shape) == 2 else shape[1] * shape[2] * shape[3]
    w = torch.empty(*shape, device=device, dtype=dtype).normal_(mean=0.0, std=(2.0 / fan_in) ** 0.5)
    w.requires_grad = True
    return w
