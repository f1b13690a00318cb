"""Reference for the DSL's ConvolutionalLayer (conv -> batch norm -> activation) in PyTorch, float64.

TensorFlow layouts on our side: input NDHWC, kernel [kd, kh, kw, in, out]; PyTorch uses NCDHW and [out, in, kd, kh, kw].
'same' padding with odd kernels and dilation d pads (k-1)*d/2 on each side, which PyTorch's padding= reproduces.
Batch norm in training mode uses the biased batch variance (tf.nn.moments) and NiftyNet's moving-average update
m <- m - (1 - decay) (m - batch) with decay 0.9 (computed with numpy, not torch.running_var, which is unbiased).
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.RandomState(42)


def case(spatial, dilation, acti):
    n, c_in, c_out, k = 2, 3, 4, 3
    x = rng.standard_normal((n, *spatial, c_in))
    w = rng.standard_normal((*([k] * len(spatial)), c_in, c_out)) * 0.3
    b = rng.standard_normal(c_out) * 0.1
    gamma = 1 + rng.standard_normal(c_out) * 0.1
    beta = rng.standard_normal(c_out) * 0.1
    alpha = rng.standard_normal(c_out) * 0.2
    r = rng.standard_normal((n, *spatial, c_out))
    dims = len(spatial)
    to_torch_x = (0, dims + 1, *range(1, dims + 1))
    to_torch_w = (dims + 1, dims, *range(dims))
    tx = torch.tensor(x.transpose(to_torch_x), requires_grad=True)
    tw = torch.tensor(w.transpose(to_torch_w), requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    tg = torch.tensor(gamma, requires_grad=True)
    tbe = torch.tensor(beta, requires_grad=True)
    ta = torch.tensor(alpha, requires_grad=True)
    conv = F.conv3d if dims == 3 else F.conv2d
    y = conv(tx, tw, tb, padding=dilation * (k - 1) // 2, dilation=dilation)
    axes = [0, *range(2, dims + 2)]
    mean = y.mean(dim=axes, keepdim=True)
    var = ((y - mean) ** 2).mean(dim=axes, keepdim=True)
    shape = [1, c_out] + [1] * dims
    z = (y - mean) / torch.sqrt(var + 1e-5) * tg.view(shape) + tbe.view(shape)
    if acti == "relu":
        out = F.relu(z)
    else:  # NiftyNet prelu: relu(z) + alpha * (z - |z|) / 2
        out = F.relu(z) + ta.view(shape) * (z - z.abs()) * 0.5
    tr = torch.tensor(r.transpose(to_torch_x))
    (out * tr).sum().backward()
    back = (0, *range(2, dims + 2), 1)
    batch_mean = mean.detach().numpy().reshape(-1)
    batch_var = var.detach().numpy().reshape(-1)
    return {
        "spatial": list(spatial),
        "dilation": dilation,
        "acti": acti,
        "x": x.ravel().tolist(),
        "w": w.ravel().tolist(),
        "b": b.tolist(),
        "gamma": gamma.tolist(),
        "beta": beta.tolist(),
        "alpha": alpha.tolist(),
        "r": r.ravel().tolist(),
        "out": out.detach().numpy().transpose(back).ravel().tolist(),
        "grad_x": tx.grad.numpy().transpose(back).ravel().tolist(),
        "grad_w": tw.grad.numpy().transpose(*range(2, dims + 2), 1, 0).ravel().tolist(),
        "grad_gamma": tg.grad.numpy().tolist(),
        "grad_beta": tbe.grad.numpy().tolist(),
        # zero for relu (alpha is not used there)
        "grad_alpha": (ta.grad.numpy() if ta.grad is not None else np.zeros(c_out)).tolist(),
        "moving_mean": (0 - 0.1 * (0 - batch_mean)).tolist(),
        "moving_variance": (1 - 0.1 * (1 - batch_var)).tolist(),
    }


cases = [case((5, 6, 7), 2, "relu"), case((6, 5), 1, "prelu")]
with open(sys.argv[1], "w") as f:
    json.dump({"cases": cases}, f)
