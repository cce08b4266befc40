def three_layer_convnet(x, params):
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    out = torch.relu(F.conv2d(x, conv_w1, bias=conv_b1, stride=1, padding=(2, 2)))
    out = torch.relu(F.conv2d(out, conv_w2, bias=conv_b2, stride=1, padding=(1, 1)))
    return F.linear(torch.flatten(out, 1), fc_w.t(), fc_b)
