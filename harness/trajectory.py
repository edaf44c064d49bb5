"""Reading a run's recorded history beyond its last epoch: runs compared at
equal training loss (F8), and the direction of a displacement from the initial
weights (F12). Pure functions of records; nothing here trains.

Equal training loss. Every evaluated epoch records the train loss, the weight
distance from init (w_dist) and the test accuracy. `at_loss` reads a run where
its train loss first falls to a level, linearly in log(train loss) between the
two evaluated epochs around it. Epoch 0 (the init: distance 0, chance accuracy)
is never one of the two: between the init and the first epoch a fast run
(BS64 at lr 0.1 takes hundreds of steps in its first epoch) changes too much
for an interpolation to mean anything, so a run whose first epoch already lies
below a level does not take part at that level.

Radial fraction. With d = w - w0, |w|^2 = |w0|^2 + 2 w0.d + |d|^2, so the
records' norms (at epoch 0 and at the end) and distance give w0.d, and
w0.d / (|w0| |d|) is the cosine between the displacement and the initial
weights: 0 for a move along the sphere of radius |w0|, +1 for pure growth
of the weights, -1 for pure shrinkage. Per layer, the recorded norms and
cosine with the init give the same (law of cosines).
"""
import math

import numpy as np

LEVELS = 24  # train-loss levels an equal-loss comparison reads (log-spaced over the range the runs share)


# -- equal training loss (F8) ------------------------------------------------------
def _evaluated(history, keys):
    """[(epoch, train_loss, {key: value})] of the evaluated epochs from 1 on."""
    out = []
    for i, (epoch, loss) in enumerate(zip(history["epoch"], history["train_loss"])):
        if epoch >= 1 and isinstance(loss, (int, float)) and math.isfinite(loss) and loss > 0:
            out.append((epoch, loss, {k: history[k][i] for k in keys}))
    return out


def at_loss(history, level, keys=("w_dist", "test_acc")):
    """{key: value} where the run's train loss first falls to `level`
    (interpolated in log loss between two evaluated epochs >= 1), or None
    when its evaluated epochs from 1 on never bracket the level."""
    pts = _evaluated(history, keys)
    for (_, la, va), (_, lb, vb) in zip(pts, pts[1:]):
        if la >= level >= lb and la > lb:
            t = (math.log(la) - math.log(level)) / (math.log(la) - math.log(lb))
            return {k: va[k] + t * (vb[k] - va[k]) for k in keys}
    return None


def loss_levels(histories, n=LEVELS):
    """n log-spaced levels from the lowest final train loss to the highest
    first-epoch train loss among the runs: the range two runs can share."""
    ends = [_evaluated(h, ())[-1][1] for h in histories]
    starts = [_evaluated(h, ())[0][1] for h in histories]
    lo, hi = min(ends), max(starts)
    return list(np.exp(np.linspace(math.log(hi), math.log(lo), n)))


def equal_loss_points(histories, n=LEVELS):
    """[(level, [(run index, W, A), ...])] at every level two runs or more reach."""
    out = []
    for level in loss_levels(histories, n):
        hits = [(i, p["w_dist"], p["test_acc"]) for i, h in enumerate(histories)
                if (p := at_loss(h, level)) is not None]
        if len(hits) >= 2:
            out.append((level, hits))
    return out


def centred(points):
    """(dW, dA) arrays: each run's distance and accuracy minus the mean of its
    level's runs (what the within-level slope is fitted to)."""
    dw, da = [], []
    for _, hits in points:
        w = np.array([x[1] for x in hits], float)
        a = np.array([x[2] for x in hits], float)
        dw.extend(w - w.mean())
        da.extend(a - a.mean())
    return np.asarray(dw), np.asarray(da)


def within_level_slope(histories, n=LEVELS) -> float:
    """Least-squares slope of test accuracy on W among runs at equal train
    loss (one intercept per level): how much accuracy a run gains per unit of
    distance over another run that fits the training set as well. NaN when no
    level has two runs at different distances."""
    dw, da = centred(equal_loss_points(histories, n))
    ss = float((dw * dw).sum())
    return float((dw * da).sum() / ss) if ss > 0 else math.nan


def final_slope(histories) -> float:
    """Least-squares slope of the final test accuracy on the final W across
    runs: the association of accuracy with distance when training progress is
    left free (what a grid of final solutions shows)."""
    w = np.array([_final(h, "w_dist") for h in histories], float)
    a = np.array([_final(h, "test_acc") for h in histories], float)
    wc = w - w.mean()
    ss = float((wc * wc).sum())
    return float((wc * (a - a.mean())).sum() / ss) if ss > 0 else math.nan


def distance_share(histories, n=LEVELS) -> float:
    """within_level_slope / final_slope: the share of the final solutions'
    accuracy-per-distance that remains among runs at equal training loss.
    About 1 if accuracy follows distance whatever the loss, about 0 if it
    follows the loss alone. NaN unless final_slope > 0 (then the final
    solutions show no rise of accuracy with distance to share)."""
    grid = final_slope(histories)
    return within_level_slope(histories, n) / grid if grid > 0 else math.nan


def _final(history, key):
    vals = [v for v in history[key] if isinstance(v, (int, float)) and math.isfinite(v)]
    return vals[-1] if vals else math.nan


# -- direction of the displacement (F12) --------------------------------------------
def radial_fraction(norm0: float, norm: float, dist: float) -> float:
    """w0.d / (|w0| |d|) from |w0|, |w| and |d| = |w - w0|; NaN when d = 0."""
    if dist <= 0:
        return math.nan
    return (norm ** 2 - norm0 ** 2 - dist ** 2) / (2 * norm0 * dist)


def radial_fraction_of(record) -> float:
    """The radial fraction of all weights' final displacement (W), from the record."""
    h = record["history"]
    return radial_fraction(h["w_norm"][0], _final(h, "w_norm"), _final(h, "w_dist"))


def layer_radial_fractions(record) -> list[float]:
    """Per layer, from the recorded layer norms and cosine with the init:
    |d|^2 = |w|^2 + |w0|^2 - 2 |w| |w0| cos and w0.d = |w| |w0| cos - |w0|^2."""
    h = record["history"]
    out = []
    for n0, n, c in zip(h["w_norm_layers"][0], h["w_norm_layers"][-1], h["cos"][-1]):
        d2 = n * n + n0 * n0 - 2 * n * n0 * c
        out.append((n * c - n0) / math.sqrt(d2) if d2 > 0 else math.nan)
    return out


def orthogonal_norm(norm0: float, dist: float) -> float:
    """The final norm a displacement of length dist orthogonal to w0 gives:
    sqrt(|w0|^2 + |d|^2), i.e. about |w0| (1 + (|d|/|w0|)^2 / 2). A norm
    within 5% of the initial therefore follows from |d| < ~0.32 |w0| alone."""
    return math.sqrt(norm0 ** 2 + dist ** 2)
