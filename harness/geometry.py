"""Distances, norms and cosines of parameter sets, as the post reports them:
W over all weight matrices together, B over all bias vectors together."""
import torch

from .model import biases, weights


def _norm(ts):
    return torch.sqrt(sum((t.double() ** 2).sum() for t in ts)).item()


def norm(ts) -> float:
    """Euclidean norm of a list of tensors taken as one vector."""
    return _norm(ts)


def distance(a, b) -> float:
    """Euclidean distance between two lists of tensors taken as vectors."""
    return _norm([x - y for x, y in zip(a, b)])


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().flatten(), b.double().flatten()
    return (a @ b / (a.norm() * b.norm())).item()


def snapshot(params, init) -> dict:
    """The geometry the post tracks: distance from init, norm to the origin and
    per-layer cosine(current, initial) for weights; distance and norm for biases."""
    w, w0 = weights(params), weights(init)
    b, b0 = biases(params), biases(init)
    return {
        "w_dist": distance(w, w0), "b_dist": distance(b, b0),
        "w_norm": norm(w), "b_norm": norm(b),
        "w_norm_layers": [norm([t]) for t in w],
        "cos": [cosine(x, y) for x, y in zip(w, w0)],
    }


def cosine_from_distance(norm_w: float, norm_w0: float, dist: float) -> float:
    """Law of cosines: cos = (|w|^2 + |w0|^2 - d^2) / (2 |w| |w0|)."""
    return (norm_w ** 2 + norm_w0 ** 2 - dist ** 2) / (2 * norm_w * norm_w0)
