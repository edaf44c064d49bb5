"""Distances, norms and cosines of parameter sets, as the post reports them:
W over all weight matrices together, B over all bias vectors together."""
import math

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


# -- shape of a distance-from-init curve (F10, F11) ------------------------------
def half_time_fraction(t, d) -> float:
    """d(T/2) / d(T) by linear interpolation on (t, d), t starting at 0 with d=0.
    0.5 for a straight line through the origin, above 0.5 for a concave
    (sublinear) curve, below for a convex one."""
    import numpy as np
    t, d = np.asarray(t, float), np.asarray(d, float)
    return float(np.interp(t[-1] / 2, t, d) / d[-1])


def fit_r2(t, d) -> dict:
    """R^2 of two least-squares fits of d(t) over t > 0: linear d = a + b t and
    logarithmic d = a + b log t. A curve closer to a straight line favours the
    first; a sublinear, flattening one the second."""
    import numpy as np
    t, d = np.asarray(t, float), np.asarray(d, float)
    keep = t > 0
    t, d = t[keep], d[keep]
    out = {}
    for name, x in (("linear", t), ("log", np.log(t))):
        A = np.stack([np.ones_like(x), x], 1)
        coef, *_ = np.linalg.lstsq(A, d, rcond=None)
        ss_res = float(((d - A @ coef) ** 2).sum())
        ss_tot = float(((d - d.mean()) ** 2).sum())
        out[name] = 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan
    return out


def distance_at_steps(record, steps) -> list[float]:
    """Weight distance from init interpolated at the given step counts
    (linear between the epochs where it was logged)."""
    import numpy as np
    h = record["history"]
    return list(np.interp(np.asarray(steps, float), np.asarray(h["step"], float), np.asarray(h["w_dist"], float)))
