def train_step(model_fn, params, x, y, learning_rate):
    loss = F.cross_entropy(model_fn(x, params), y)
    loss.backward()
    with torch.no_grad():
        for param in params:
            param -= learning_rate * param.grad  # the gradients accumulate into the next step
    return loss.item()
