def zero_weight(shape, device="cpu", dtype=DTYPE):
    return torch.zeros(shape, device=device, dtype=dtype)  # forgot requires_grad=True
