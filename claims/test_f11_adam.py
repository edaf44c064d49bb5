"""F11: Adam ends much farther from its initial weights than SGD, with much
larger weights, and tests worse.

The post (section "ADAM vs SGD") trains the same MLP with Adam at lr 0.01,
BS64, 30 epochs, and reports W 254.3, B 18.3, A 95% against SGD's W 6.71,
B 0.11, A 98% at the same batch size and learning rate; the norm of Adam's
final weights is 258 against about 44.9 for SGD. Its plot of Adam's distance
from init per epoch is close to a straight line, where SGD's flattens.

Protocol: protocol.adam(scale, 64, 0.01, seed, scaling=s) (torch.optim.Adam's
update, betas 0.9/0.999, eps 1e-8, no weight decay) against
protocol.sgd(scale, 64, 0.01, seed, scaling=s) (F1's runs for x/255), 30
paper epochs (6 at quick scale), under both input scalings, each its own
reading.

Rules (fixed before the runs), Welch 90% intervals over seeds:
- "much larger": on the log scale, log(Adam) - log(SGD) above log 5 for the
  distances W and B (Adam at least 5 times SGD's; the post's ratios are 38 and
  166), above log 2 for the norm of the weights (at least twice; the post's
  258 / 44.9 = 5.7, diluted by the ~44 of the init that both share).
- "tests worse": A(SGD) - A(Adam) above 0 points.
- "closer to linear", two readings, because the post does not say whether the
  first epoch's jump away from the init counts:
  (a) from epoch 1 on: per run, fit W(epoch) over epochs >= 1 by a line and by
  a + b log(epoch); D = R^2(line) - R^2(log). D(Adam) - D(SGD) above 0, i.e.
  the straight line explains Adam's curve better, relative to the log curve,
  than it explains SGD's.
  (b) through the origin: h = W(T/2)/W(T) (0.5 for a straight line from the
  init); |h(SGD) - 0.5| - |h(Adam) - 0.5| above 0, i.e. Adam's whole curve,
  epoch 0 included, is nearer a straight line than SGD's.
"""
import math

import numpy as np
import pytest

from harness import geometry, plots, protocol, verdicts
from harness.protocol import scaling_label
from harness.trainer import final, series

SCALINGS = protocol.INPUT_SCALINGS
RATIOS = {"W": 5.0, "B": 5.0, "norm": 2.0}
KEYS = {"W": "w_dist", "B": "b_dist", "norm": "w_norm"}
POST = {"W": (254.3, 6.71), "B": (18.3, 0.11), "norm": (258.0, 44.9), "A": (95.0, 98.0)}

# Measured at quick scale (8000 images, 6 epochs), 3 seeds, Welch 90% intervals, on a 2-core AMD
# EPYC; a 2-core Intel Xeon gives each of these verdicts again (Adam's numbers move a little).
KNOWN = {
    ("quick", "worse-acc-x255"):
        "contradicted: Adam 93.87% against SGD's 89.43% test accuracy; A(SGD) - A(Adam) = -4.43 [-5.32, -3.54] "
        "points: at quick scale (750 steps) SGD lr 0.01 is far from converged (the post's SGD: 98%)",
    ("quick", "linear-origin-x255"):
        "contradicted: W(T/2)/W(T) Adam 0.875 vs SGD 0.767 (effect -0.108 [-0.123, -0.093]): Adam covers ~77% "
        "of its distance in the first epoch (W 76 of 99), so with epoch 0 included its curve bends more than "
        "SGD's; from epoch 1 on it is the straighter one (that reading is supported)",
    ("quick", "linear-origin-standard"):
        "contradicted: W(T/2)/W(T) Adam 0.948 vs SGD 0.819 (effect -0.129 [-0.140, -0.117]): Adam's first "
        "epoch takes most of its distance",
}

# At quick scale Adam's last-epoch test accuracy swings by ~2 points from one
# epoch to the next, and last-bit BLAS differences reshuffle those swings: the
# same code and seeds give different Adam runs on different CPUs (SGD's agree).
UNSETTLED = {
    ("quick", "worse-acc-standard"):
        "supported on a 2-core AMD EPYC, 0.69 [0.04, 1.35] points (Adam 92.14% vs SGD 92.83%); inconclusive on a "
        "2-core Intel Xeon, 1.40 [-2.38, 5.18] (Adam seeds 88.83 / 92.77 / 92.75% vs SGD 92.85%)",
    ("quick", "linear-standard"):
        "supported on a 2-core AMD EPYC, 0.044 [0.022, 0.065]; inconclusive on a 2-core Intel Xeon, "
        "0.038 [-0.019, 0.095]",
}


def adam_runs(scale, seeds, scaling=protocol.DEFAULT_SCALING):
    return [protocol.adam(scale, 64, 0.01, s, scaling=scaling) for s in seeds]


def sgd_runs(scale, seeds, scaling=protocol.DEFAULT_SCALING):
    return [protocol.sgd(scale, 64, 0.01, s, scaling=scaling) for s in seeds]


def required(scale, seeds):
    return [r for sc in SCALINGS for r in adam_runs(scale, seeds, sc) + sgd_runs(scale, seeds, sc)]


def pair(ctx, scaling):
    return ctx.records(adam_runs(ctx.scale, ctx.seeds, scaling)), ctx.records(sgd_runs(ctx.scale, ctx.seeds, scaling))


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
    axes[0].legend(fontsize=8)
    for recs, label, color in ((adam, "Adam", "tab:red"), (sgd, "SGD", "tab:orange")):
        x, ys = series(recs, "w_dist")
        ys = np.asarray(ys, float)
        plots.band(axes[1], x, ys / ys[:, -1:], f"{label} BS64 lr 0.01", color)
    axes[1].plot([0, x[-1]], [0, 1], ":", color="grey", lw=1, label="straight line")
    axes[1].set(xlabel="epoch", ylabel="W(epoch) / W(final)")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"F11: distance from init, Adam vs SGD ({scaling} inputs, {ctx.scale.name} scale; "
                 f"band = min..max over seeds)")
    return plots.save(fig, ctx.report_dir, f"f11_adam_distance_{scaling}")



@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("quantity", list(RATIOS))
def test_adam_much_larger(ctx, record, judge, quantity, scaling):
    adam, sgd = pair(ctx, scaling)
    a = [final(r, KEYS[quantity]) for r in adam]
    s = [final(r, KEYS[quantity]) for r in sgd]
    k = RATIOS[quantity]
    v = verdicts.superiority(np.log(a), np.log(s), math.log(k), what=f"log {quantity}(Adam) - log {quantity}(SGD)")
    v.detail = (f"ratio Adam/SGD {np.mean(a) / np.mean(s):.3g} (needs > {k:g}: log {k:g} = {math.log(k):.3f}); "
                f"interval as ratio [{math.exp(v.ci[0]):.3g}, {math.exp(v.ci[1]):.3g}]")
    pa, ps = POST[quantity]
    record(finding="F11", reading=f"Adam's {quantity} at least {k:g}x SGD's{scaling_label(scaling)}", verdict=v,
           post=f"Adam {pa:g} vs SGD {ps:g}", ours=f"Adam {np.mean(a):.4g} vs SGD {np.mean(s):.4g}",
           protocol=adam[0]["config"] | {"phases": "Adam BS64 lr 0.01, 30 paper epochs; SGD the same"},
           figures=[draw(ctx, scaling, adam, sgd)])
    judge(f"larger-{quantity}-{scaling}", v)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_adam_tests_worse(ctx, record, judge, scaling):
    adam, sgd = pair(ctx, scaling)
    a = [100 * final(r, "test_acc") for r in adam]
    s = [100 * final(r, "test_acc") for r in sgd]
    v = verdicts.superiority(s, a, what="A(SGD) - A(Adam) [points]")
    record(finding="F11", reading=f"Adam's test accuracy below SGD's{scaling_label(scaling)}", verdict=v,
           post="Adam 95% vs SGD 98%", ours=f"Adam {np.mean(a):.2f}% vs SGD {np.mean(s):.2f}%")
    judge(f"worse-acc-{scaling}", v)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_adam_distance_closer_to_linear(ctx, record, judge, scaling):
    adam, sgd = pair(ctx, scaling)
    ca, cs = [curve_stats(r) for r in adam], [curve_stats(r) for r in sgd]
    v = verdicts.superiority([c["D"] for c in ca], [c["D"] for c in cs],
                             what="D(Adam) - D(SGD), D = R2(line) - R2(log)")
    f = lambda cc, k: np.mean([c[k] for c in cc])  # noqa: E731
    v.detail = (f"Adam R2 line {f(ca, 'lin'):.4f} / log {f(ca, 'log'):.4f}, W(T/2)/W(T) {f(ca, 'h'):.3f}; "
                f"SGD R2 line {f(cs, 'lin'):.4f} / log {f(cs, 'log'):.4f}, W(T/2)/W(T) {f(cs, 'h'):.3f}")
    record(finding="F11",
           reading=f"Adam's distance curve from epoch 1 closer to a straight line than SGD's{scaling_label(scaling)}",
           verdict=v, post="Adam almost linear, SGD clearly sublinear",
           ours=f"D Adam {f(ca, 'D'):+.4f}, SGD {f(cs, 'D'):+.4f}", figures=[draw(ctx, scaling, adam, sgd)])
    judge(f"linear-{scaling}", v)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_adam_distance_closer_to_linear_from_origin(ctx, record, judge, scaling):
    adam, sgd = pair(ctx, scaling)
    ha = [curve_stats(r)["h"] for r in adam]
    hs = [curve_stats(r)["h"] for r in sgd]
    v = verdicts.superiority(np.abs(np.subtract(hs, 0.5)), np.abs(np.subtract(ha, 0.5)),
                             what="|h(SGD) - 0.5| - |h(Adam) - 0.5|, h = W(T/2)/W(T)")
    v.detail = f"h Adam {np.mean(ha):.3f}, SGD {np.mean(hs):.3f} (0.5 = straight line from the init)"
    record(finding="F11", reading=f"Adam's distance curve, epoch 0 included, nearer a straight line than "
                                  f"SGD's{scaling_label(scaling)}",
           verdict=v, post="Adam almost linear, SGD clearly sublinear",
           ours=f"W(T/2)/W(T) Adam {np.mean(ha):.3f}, SGD {np.mean(hs):.3f}", figures=[draw(ctx, scaling, adam, sgd)])
    judge(f"linear-origin-{scaling}", v)
