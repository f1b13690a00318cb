"""PyTorch's optimizers and learning-rate schedulers on fixed gradients, with NiftyNet's default hyper-parameters
per optimiser (NiftyNet's application_optimiser.py: Adam b1 0.9 b2 0.999 eps 1e-8; Momentum 0.9, with and without
Nesterov; Adagrad initial accumulator 0.1; RMSProp decay 0.9 eps 1e-10). Usage: engine_optimizers.py OUT.json"""
import json
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float32)
rng = np.random.default_rng(7)
SHAPES = [[3, 4], [5]]
STEPS = 6
LR = 0.05
params0 = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]


def make(name, params):
    if name == "gradientdescent":
        return torch.optim.SGD(params, lr=LR)
    if name == "momentum":
        return torch.optim.SGD(params, lr=LR, momentum=0.9)
    if name == "nesterov":
        return torch.optim.SGD(params, lr=LR, momentum=0.9, nesterov=True)
    if name == "adam":
        return torch.optim.Adam(params, lr=LR, betas=(0.9, 0.999), eps=1e-8)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=LR, initial_accumulator_value=0.1, eps=1e-10)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=LR, alpha=0.9, eps=1e-10, momentum=0.0, centered=False)
    raise ValueError(name)


def run(name, schedule=None):
    params = [torch.tensor(p.copy(), requires_grad=True) for p in params0]
    opt = make(name, params)
    sched = schedule(opt) if schedule else None
    trajectory = []
    for step in range(STEPS):
        for p, g in zip(params, grads[step]):
            p.grad = torch.tensor(g)
        opt.step()
        if sched:
            sched.step()
        trajectory.append([p.detach().numpy().astype(np.float64).ravel().tolist() for p in params])
    return trajectory


def lrs(schedule, n=12):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=LR)
    s = schedule(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


step_schedule = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
poly_schedule = lambda opt: torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=10, power=0.9)

out = {
    "shapes": SHAPES,
    "lr": LR,
    "params": [p.astype(np.float64).ravel().tolist() for p in params0],
    "grads": [[g.astype(np.float64).ravel().tolist() for g in step] for step in grads],
    "trajectories": {n: run(n) for n in ["gradientdescent", "momentum", "nesterov", "adam", "adagrad", "rmsprop"]},
    "adam_step_schedule": run("adam", step_schedule),
    "schedules": {
        "step": {"decay_every": 3, "factor": 0.5, "lrs": lrs(step_schedule)},
        "poly": {"max_iter": 10, "power": 0.9, "lrs": lrs(poly_schedule)},
    },
}
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
