"""The reference loop of the gradient experiment: one trial the plain way
(nn.Sequential, F.cross_entropy, loss.backward(), torch.optim.SGD).

A reference only: the suite never computes its numbers with it. Tests
(tests/test_gradients.py) check the fast sampler (harness/sampler.py) against
it, and benchmarks (benchmarks/test_bench_gradients.py) measure the sampler's
speed against it.
"""
import torch

from .sampler import BATCH_SIZES, LR


def naive_trial(start, x, y, batch_sizes=BATCH_SIZES, lr=LR):
    """One trial the plain way: an nn.Sequential loaded with the start weights,
    F.cross_entropy (batch mean), loss.backward() and torch.optim.SGD, reset for
    every batch size. Returns {B: {reading: (10, 1024) tensor}} like sample_trials."""
    import torch.nn as nn
    import torch.nn.functional as F

    dt = x.dtype
    net = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)).to(dt)
    layers = [net[0], net[2], net[4]]
    out = {}
    n = len(x)
    for B in batch_sizes:
        with torch.no_grad():
            for k, layer in enumerate(layers):
                layer.weight.copy_(start[2 * k])
                layer.bias.copy_(start[2 * k + 1])
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        gsum = torch.zeros(10, 1024, dtype=dt)
        gw = torch.zeros_like(gsum)
        res = {}
        for i in range(0, n, B):
            xb, yb = x[i:i + B], y[i:i + B]
            if len(xb) < B:
                res["sum-drop"], res["mean-drop"] = gsum.clone(), gw / i
            opt.zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            g = layers[2].weight.grad
            gsum += g
            gw += len(xb) * g
            opt.step()
        res["sum"], res["mean"] = gsum, gw / n
        res.setdefault("sum-drop", res["sum"])
        res.setdefault("mean-drop", res["mean"])
        out[B] = res
    return out
