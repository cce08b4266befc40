def nesterov_sgd(parameters, learning_rate):
    return torch.optim.SGD(params=list(parameters), lr=learning_rate, momentum=0.9, nesterov=True, weight_decay=0.0)
