def train_step(model_fn, params, x, y, learning_rate):
    scores = model_fn(x, params)
    loss = F.cross_entropy(scores, y)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.sub_(learning_rate * g)
    return float(loss)
