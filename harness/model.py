"""The post's MLP, 784-1024-1024-10 with ReLU, as a flat list of plain tensors.

Parameters are [W1, b1, W2, b2, W3, b3] with W of shape (out, in) as in
nn.Linear. Keeping them as plain tensors lets the engine update them in place
with fused BLAS calls, and lets geometry treat "all weights" and "all biases"
as the post does (W and B).
"""
import math

import torch

from .errors import ConfigError

WIDTHS = (784, 1024, 1024, 10)
INITS = ("glorot", "torch")


def init_params(seed: int, init: str = "glorot", widths=WIDTHS, device="cpu") -> list[torch.Tensor]:
    """Glorot-uniform weights with zero biases (Keras' default, which the post's
    numbers imply), or PyTorch's nn.Linear default (kaiming-uniform(a=sqrt 5)
    weights and U(+-1/sqrt(fan_in)) biases). Drawn on the CPU from its own
    generator so that a seed gives the same start on every device."""
    if init not in INITS:
        raise ConfigError(f"unknown init {init!r}: choose one of {INITS}")
    g = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        if init == "glorot":
            a = math.sqrt(6.0 / (fan_in + fan_out))
            w = (torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * a
            b = torch.zeros(fan_out)
        else:
            a = 1.0 / math.sqrt(fan_in)
            w = (torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * a
            b = (torch.rand(fan_out, generator=g) * 2 - 1) * a
        params += [w.to(device), b.to(device)]
    return params


def expected_glorot_norm(widths=WIDTHS) -> tuple[float, list[float]]:
    """E|W|^2 of U(-a, a) is a^2/3 per entry, so each layer's expected squared
    norm is fan_in*fan_out*2/(fan_in+fan_out). Total 43.95 for the post's MLP."""
    layers = [math.sqrt(i * o * 2.0 / (i + o)) for i, o in zip(widths[:-1], widths[1:])]
    return math.sqrt(sum(x * x for x in layers)), layers


def weights(params):
    return params[0::2]


def biases(params):
    return params[1::2]
