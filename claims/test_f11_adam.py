"""F11: Adam ends much farther from its initial weights than SGD, with much
larger weights, and tests worse.

The post (section "ADAM vs SGD") trains the same MLP with Adam at lr 0.01,
BS64, 30 epochs, and reports W 254.3, B 18.3, A 95% against SGD's W 6.71,
B 0.11, A 98% at the same batch size and learning rate; the norm of Adam's
final weights is 258 against about 44.9 for SGD. Its plot of Adam's distance
from init per epoch is close to a straight line, where SGD's flattens.

The numbers: post.F11.numbers.

Protocol: protocol.runs(scale, seeds, "adam", 64, 0.01, scaling=s)
(torch.optim.Adam's update, betas 0.9/0.999, eps 1e-8, no weight decay)
against protocol.runs(scale, seeds, "sgd", 64, 0.01, scaling=s) (F1's runs),
30 paper epochs (15 at quick scale); mean/std inputs ("standard", the primary
readings) by default, x/255 with --scaling x255|both, each its own reading.

Rules (fixed before the runs), 90% t intervals of the per-seed differences,
paired because the Adam and SGD runs of one seed start from the same weights
and draw the same permutation at every epoch (harness/verdicts.py):
- "much larger": on the log scale, log(Adam) - log(SGD) above log 5 for the
  distances W and B (Adam at least 5 times SGD's; the post's ratios are 38 and
  166), above log 2 for the norm of the weights (at least twice; the post's
  258 / 44.9 = 5.7, diluted by the ~44 of the init that both share).
- "tests worse": A(SGD) - A(Adam) above 0 points, where A is a run's mean
  test accuracy over the last sixth of its evaluated epochs (ACC_WINDOW: 5 of
  the post's 30, 3 of quick's 15, rounded up), the same window for both
  optimizers. Why not the last epoch: Adam's test accuracy swings by points
  from one epoch to the next (at quick scale, last-bit BLAS differences
  between CPUs reshuffle the swings and flipped this verdict), and the post's
  word for what it compares is the *asymptotic* accuracy, the level more
  training no longer moves. Why a sixth: it averages several epochs (an
  independent swing shrinks by sqrt(k)), yet stays at the end of training,
  where a still-rising curve (SGD at quick scale) moves little; if anything
  it lowers a rising SGD's A and so works against the claim. Fixed
  2026-12-01 (issue 13), before reading any run's per-epoch accuracies.
- "closer to linear", two readings, because the post does not say whether the
  first epoch's jump away from the init counts:
  (a) from epoch 1 on: per run, fit W(epoch) over epochs >= 1 by a line and by
  a + b log(epoch); D = R^2(line) - R^2(log). D(Adam) - D(SGD) above 0, i.e.
  the straight line explains Adam's curve better, relative to the log curve,
  than it explains SGD's.
  (b) through the origin: h = W(T/2)/W(T) (0.5 for a straight line from the
  init); |h(SGD) - 0.5| - |h(Adam) - 0.5| above 0, i.e. Adam's whole curve,
  epoch 0 included, is nearer a straight line than SGD's.
Primary readings (claims/post.py): much larger W and norm, and tests worse,
standard inputs.
Nulls that fail them: a harness that ignored the optimizer (Adam's runs are
SGD's) gives log ratios of 0, below log 5 and log 2 (contradicted), and
accuracy differences of 0 (never supported); tests/test_claim_nulls.py.
"""
import math

import numpy as np
import pytest

from claims import figures, post
from harness import geometry, plots, protocol, verdicts
from harness.claim import uses
from harness.expect import Known
from harness.trainer import final, percent, series

FINDING = post.F11
SCALINGS = protocol.INPUT_SCALINGS
RATIOS = {"W": 5.0, "B": 5.0, "norm": 2.0}  # Adam/SGD at least: far below the post's 38, 166 and 5.7
KEYS = {"W": "w_dist", "B": "b_dist", "norm": "w_norm"}
ACC_WINDOW = 1 / 6  # share of a run's last evaluated epochs averaged into its test accuracy (5 of the post's 30)

# Measured at quick scale (8000 images, 6 epochs), 3 seeds: on a 2-core AMD EPYC and a 2-core Intel Xeon alike.
KNOWN = (
    Known("quick", "test_adam_tests_worse[x255]", "contradicted", scaling="x255",
          why="with x/255 inputs SGD lr 0.01 is far from converged at quick scale, Adam is not"),
    Known("quick", "test_adam_distance_closer_to_linear_from_origin[x255]", "contradicted", scaling="x255",
          why="Adam covers most of its distance in the first epoch, so with the starting point included its curve "
              "bends more than SGD's; from the end of the first epoch on it is the straighter one"),
    Known("quick", "test_adam_distance_closer_to_linear_from_origin[standard]", "contradicted",
          why="Adam's first epoch takes most of its distance"),
    # test_adam_tests_worse[standard] had an entry allowing supported or inconclusive: its
    # last-epoch accuracy swung by CPU. Since 2026-12-01 it reads the mean of the last sixth of
    # the epochs (ACC_WINDOW), measured supported on a 2-core Intel Xeon (1.86 [1.66, 2.06]
    # points, paired); no other CPU has measured it yet, so no entry.
    Known("quick", "test_adam_distance_closer_to_linear[standard]", ("supported", "inconclusive"),
          cpus="old quick scale (a fifth of the epochs): supported on a 2-core AMD EPYC, inconclusive on a 2-core "
               "Intel Xeon; this quick scale: supported on the Intel Xeon, not yet measured on an AMD EPYC",
          why="Adam's runs differ by CPU at quick scale (last-bit BLAS differences)"),
)

# --dataset fashion-mnist, quick scale, 3 seeds, measured on a 2-core Intel Xeon (2026-12-01).
KNOWN += tuple(
    Known("quick", f"{test}[standard]", "inconclusive", dataset="fashion-mnist",
          why="Adam's and SGD's distance curves have about the same shape on Fashion-MNIST at quick scale")
    for test in ("test_adam_distance_closer_to_linear", "test_adam_distance_closer_to_linear_from_origin"))


def late_accuracy(rec, key="test_acc"):
    """A run's accuracy in points: the mean over the last ACC_WINDOW of its
    evaluated epochs (epoch 0, the init, excluded), at least one epoch."""
    h = rec["history"]
    vals = [a for e, a in zip(h["epoch"], h[key]) if e >= 1 and not (isinstance(a, float) and math.isnan(a))]
    k = max(1, math.ceil(len(vals) * ACC_WINDOW))
    return 100 * float(np.mean(vals[-k:]))


def much_larger(adam, sgd, quantity):
    """Per-seed values (Adam, SGD) of W, B or the norm -> Adam's at least RATIOS[quantity] times SGD's."""
    k = RATIOS[quantity]
    la, ls = np.log(adam), np.log(sgd)
    _, ci = verdicts.paired_diff(la, ls)
    return verdicts.paired_superiority(la, ls, math.log(k), what=f"log {quantity}(Adam) - log {quantity}(SGD)",
                                       detail=f"ratio Adam/SGD {np.mean(adam) / np.mean(sgd):.3g} (needs > {k:g}: "
                                              f"log {k:g} = {math.log(k):.3f}); interval as ratio "
                                              f"[{math.exp(ci[0]):.3g}, {math.exp(ci[1]):.3g}]")


def accuracy_below_sgd(adam, sgd):
    """Per-seed late accuracies (points) of Adam and SGD -> Adam's below SGD's."""
    return verdicts.paired_superiority(sgd, adam, what="A(SGD) - A(Adam) [points]",
                                       detail="A = mean test accuracy over the last sixth of each run's "
                                              "evaluated epochs (ACC_WINDOW)")


def adam_and_sgd(scale, seeds, scaling):
    return {opt: protocol.runs(scale, seeds, opt, 64, 0.01, scaling=scaling) for opt in ("adam", "sgd")}


def curve_stats(rec):
    h = rec["history"]
    r2 = geometry.fit_r2(h["epoch"], h["w_dist"])
    return {"D": r2["linear"] - r2["log"], "lin": r2["linear"], "log": r2["log"],
            "h": geometry.half_time_fraction(h["epoch"], h["w_dist"])}


def draw(ctx, scaling, adam, sgd):
    fig, axes = plots.figure(2, 1)
    x, ys = series(adam, "w_dist")
    plots.band(axes[0], x, ys, "Adam BS64 lr 0.01", "tab:red")
    t = np.asarray(x[1:], float)
    m = np.asarray(ys, float).mean(0)[1:]
    for name, f in (("line", t), ("a + b log t", np.log(t))):
        A = np.stack([np.ones_like(f), f], 1)
        coef, *_ = np.linalg.lstsq(A, m, rcond=None)
        axes[0].plot(t, A @ coef, "--", lw=1, label=f"fit: {name}")
    axes[0].set(xlabel="epoch", ylabel="distance from initial weights (W)")
    for recs, label, color in ((adam, "Adam", "tab:red"), (sgd, "SGD", "tab:orange")):
        x, ys = series(recs, "w_dist")
        ys = np.asarray(ys, float)
        plots.band(axes[1], x, ys / ys[:, -1:], f"{label} BS64 lr 0.01", color)
    axes[1].plot([0, x[-1]], [0, 1], ":", color="grey", lw=1, label="straight line")
    axes[1].set(xlabel="epoch", ylabel="W(epoch) / W(final)")
    return figures.finish_bands(ctx, fig, axes, "F11: distance from init, Adam vs SGD", "f11_adam_distance", scaling)



@uses(adam_and_sgd)
@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("quantity", list(RATIOS))
def test_adam_much_larger(ctx, reading, runs, quantity, scaling):
    a, s = ([final(r, KEYS[quantity]) for r in runs[opt]] for opt in ("adam", "sgd"))
    v = much_larger(a, s, quantity)
    pa, ps = FINDING.numbers[quantity]
    reading(v, f"Adam's {quantity} at least {RATIOS[quantity]:g}x SGD's", post=f"Adam {pa:g} vs SGD {ps:g}",
            ours={"Adam": a, "SGD": s}, figures=[draw(ctx, scaling, runs["adam"], runs["sgd"])])


@uses(adam_and_sgd)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_adam_tests_worse(reading, runs, scaling):
    a, s = ([late_accuracy(r) for r in runs[opt]] for opt in ("adam", "sgd"))
    v = accuracy_below_sgd(a, s)
    pa, ps = FINDING.numbers["A"]
    last = {f"{opt}, last epoch": percent(runs[opt.lower()], "test_acc") for opt in ("Adam", "SGD")}
    reading(v, "Adam's test accuracy below SGD's (mean of the last sixth of epochs)",
            post=f"Adam {pa:g}% vs SGD {ps:g}%", ours={"Adam": a, "SGD": s} | last, unit="%")


@uses(adam_and_sgd)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_adam_distance_closer_to_linear(ctx, reading, runs, scaling):
    ca, cs = [curve_stats(r) for r in runs["adam"]], [curve_stats(r) for r in runs["sgd"]]
    f = lambda cc, k: np.mean([c[k] for c in cc])  # noqa: E731
    v = verdicts.paired_superiority([c["D"] for c in ca], [c["D"] for c in cs],
                             what="D(Adam) - D(SGD), D = R2(line) - R2(log)",
                             detail=f"Adam R2 line {f(ca, 'lin'):.4f} / log {f(ca, 'log'):.4f}, W(T/2)/W(T) "
                                    f"{f(ca, 'h'):.3f}; SGD R2 line {f(cs, 'lin'):.4f} / log {f(cs, 'log'):.4f}, "
                                    f"W(T/2)/W(T) {f(cs, 'h'):.3f}")
    reading(v, "Adam's distance curve from epoch 1 closer to a straight line than SGD's",
            post="Adam almost linear, SGD clearly sublinear", ours={"D Adam": f(ca, "D"), "D SGD": f(cs, "D")},
            figures=[draw(ctx, scaling, runs["adam"], runs["sgd"])])


@uses(adam_and_sgd)
@pytest.mark.parametrize("scaling", SCALINGS)
def test_adam_distance_closer_to_linear_from_origin(ctx, reading, runs, scaling):
    ha, hs = ([curve_stats(r)["h"] for r in runs[opt]] for opt in ("adam", "sgd"))
    v = verdicts.paired_superiority(np.abs(np.subtract(hs, 0.5)), np.abs(np.subtract(ha, 0.5)),
                             what="|h(SGD) - 0.5| - |h(Adam) - 0.5|, h = W(T/2)/W(T)",
                             detail=f"h Adam {np.mean(ha):.3f}, SGD {np.mean(hs):.3f} "
                                    "(0.5 = straight line from the init)")
    reading(v, "Adam's distance curve, epoch 0 included, nearer a straight line than SGD's",
            post="Adam almost linear, SGD clearly sublinear", ours={"W(T/2)/W(T) Adam": ha, "W(T/2)/W(T) SGD": hs},
            figures=[draw(ctx, scaling, runs["adam"], runs["sgd"])])
