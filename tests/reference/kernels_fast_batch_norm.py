"""Reference for training batch norm + activation (the oneDNN batch-norm kernels) in PyTorch, float64.

Channels-last on our side ([n, ...spatial, c]); PyTorch's F.batch_norm in training mode on the channels-first copy:
batch mean and biased variance (returned too), eps 1e-5. Activation after it: none, relu, or NiftyNet's prelu
relu(z) + alpha * (z - |z|) / 2. Gradients of sum(act(bn(x)) * r) with respect to x, gamma, beta and alpha.
Channel counts are multiples of 8, the ones oneDNN 2.6 has JIT batch-norm kernels for.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(14)


def case(shape, acti):
    c = shape[-1]
    dims = len(shape) - 2
    x = rng.standard_normal(shape) * 2 + 1.5
    gamma = 1 + rng.standard_normal(c) * 0.3
    beta = rng.standard_normal(c) * 0.5
    alpha = 0.1 + rng.standard_normal(c) * 0.3
    r = rng.standard_normal(shape)
    to_torch = (0, dims + 1, *range(1, dims + 1))
    back = (0, *range(2, dims + 2), 1)
    tx = torch.tensor(x.transpose(to_torch), requires_grad=True)
    tg = torch.tensor(gamma, requires_grad=True)
    tb = torch.tensor(beta, requires_grad=True)
    ta = torch.tensor(alpha, requires_grad=True)
    z = F.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5)
    if acti == "relu":
        out = F.relu(z)
    elif acti == "prelu":
        out = F.relu(z) + ta.view([1, c] + [1] * dims) * (z - z.abs()) * 0.5
    else:
        out = z
    (out * torch.tensor(r.transpose(to_torch))).sum().backward()
    axes = (0, *range(1, dims + 1))
    return {
        "shape": list(shape),
        "acti": acti,
        "x": x.ravel().tolist(),
        "gamma": gamma.tolist(),
        "beta": beta.tolist(),
        "alpha": alpha.tolist(),
        "r": r.ravel().tolist(),
        "y": out.detach().numpy().transpose(back).ravel().tolist(),
        "mean": x.mean(axis=axes).tolist(),
        "variance": x.var(axis=axes).tolist(),
        "grad_x": tx.grad.numpy().transpose(back).ravel().tolist(),
        "grad_gamma": tg.grad.numpy().tolist(),
        "grad_beta": tb.grad.numpy().tolist(),
        "grad_alpha": (ta.grad.numpy() if ta.grad is not None else np.zeros(c)).tolist(),
    }


cases = [
    case((1, 4, 5, 6, 8), "relu"),
    case((1, 3, 5, 4, 16), "prelu"),
    case((2, 5, 7, 8), "none"),
    case((1, 6, 5, 16), "prelu"),
    case((2, 3, 4, 5, 8), "none"),
    case((2, 5, 3, 8), "relu"),
]
with open(sys.argv[1], "w") as f:
    json.dump({"cases": cases}, f)
