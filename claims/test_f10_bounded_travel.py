"""F10: in a fixed number of steps SGD travels only so far from its initial
weights, and how far hardly depends on the batch size.

The post (section "Getting Far Enough") plots the distance of the weights from
their initial values against the epoch for BS64: it grows at every epoch but
ever more slowly; it says the BS1024 curve has the same shape. Together with
the 480-epoch BS1024 run (W 6.63 after as many steps as BS64 takes in 30
epochs, whose W is 6.71) it concludes that the distance reachable in a given
number of steps is bounded, whatever the batch size.

Protocol: protocol.sgd(scale, bs, 0.01, seed, scaling=s) for bs 64 and 1024,
30 paper epochs (6 at quick scale; F1's runs for x/255); and the equal-steps
arm protocol.sgd(scale, 1024, 0.01, seed, epochs=480) (96 epochs at quick
scale, F9's runs). The distance W from init is logged after every epoch (and
at epoch 0, where it is 0). Curve-shape readings run under both input
scalings; the equal-steps reading needs the 480-epoch arm, which at quick
scale runs only with x/255 inputs (the standard reading skips there).

Rules (fixed before the runs), 90% t intervals over seeds:
- "monotone and concave" (per batch size and scaling), both parts needed:
  [1] concave: h = W(T/2) / W(T), the share of the final distance covered in
  the first half of training (0.5 for a straight line through the origin),
  must have its interval above 0.55;
  [2] monotone: the smallest per-epoch increment of W, as a fraction of W(T),
  must have its interval above 0.
  Contradicted if either part's interval lies wholly on the wrong side.
- "equal steps, equal distance": the distance of the 480-epoch BS1024 run,
  interpolated (linearly in steps) at the number of steps BS64 takes in 30
  epochs, against BS64's final W: TOST equivalence, Welch interval of
  W1024 - W64 inside +-10% of BS64's mean W.
"""
import numpy as np
import pytest

from harness import geometry, plots, protocol, verdicts
from harness.protocol import scaling_label
from harness.trainer import series

SCALINGS = protocol.INPUT_SCALINGS
H_THRESHOLD = 0.55
EQ_MARGIN = 0.10
LONG_EPOCHS = protocol.equal_steps_epochs(30, 64, 1024)

# Measured at quick scale (8000 images, 6 epochs), 3 seeds, 90% t intervals.
KNOWN = {
    ("quick", "shape-bs1024-x255"):
        "contradicted: W(T/2)/W(T) = 0.519 [0.508, 0.531], below 0.55: in its 48 steps at quick scale BS1024 "
        "lr 0.01 (64% test accuracy) is still on the near-straight start of its curve; it does rise at every "
        "epoch (smallest increment 0.159 of W(T)); with standard inputs the same run bends (0.648, supported)",
}


def runs(scale, seeds, bs, scaling=protocol.DEFAULT_SCALING, epochs=30):
    return [protocol.sgd(scale, bs, 0.01, s, epochs=epochs, scaling=scaling) for s in seeds]


def long_runs_here(scale, scaling):
    return protocol.runs_at(scale, LONG_EPOCHS, scaling)


def required(scale, seeds):
    out = [r for sc in SCALINGS for bs in (64, 1024) for r in runs(scale, seeds, bs, sc)]
    return out + [r for sc in SCALINGS if long_runs_here(scale, sc)
                  for r in runs(scale, seeds, 1024, sc, LONG_EPOCHS)]


def shape(rec):
    h = rec["history"]
    t, d = np.asarray(h["epoch"], float), np.asarray(h["w_dist"], float)
    inc = np.diff(d)
    return {"h": geometry.half_time_fraction(t, d), "min_inc": float(inc.min() / d[-1]),
            "concave_steps": int((np.diff(inc) <= 0).sum()), "n_second": len(inc) - 1}


def draw(ctx, scaling):
    colors = {64: "tab:orange", 1024: "tab:purple"}
    fig, axes = plots.figure(2, 1)
    for bs in (64, 1024):
        recs = ctx.records(runs(ctx.scale, ctx.seeds, bs, scaling))
        x, ys = series(recs, "w_dist")
        plots.band(axes[0], x, ys, f"BS{bs}", colors[bs])
        steps = [r["history"]["step"] for r in recs]
        plots.band(axes[1], steps[0][:len(ys[0])], ys, f"BS{bs}, 30 paper epochs", colors[bs])
    long = runs(ctx.scale, ctx.seeds, 1024, scaling, LONG_EPOCHS)
    if long_runs_here(ctx.scale, scaling) and ctx.available(long):
        recs = ctx.records(long)
        _, ys = series(recs, "w_dist")
        plots.band(axes[1], recs[0]["history"]["step"][:len(ys[0])], ys, f"BS1024, {LONG_EPOCHS} paper epochs",
                   "tab:green")
    axes[0].set(xlabel="epoch", ylabel="distance from initial weights (W)")
    axes[1].set(xlabel="SGD steps", ylabel="distance from initial weights (W)")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    fig.suptitle(f"F10: distance from init, SGD lr 0.01 ({scaling} inputs, {ctx.scale.name} scale; "
                 f"band = min..max over seeds)")
    return plots.save(fig, ctx.report_dir, f"f10_distance_{scaling}")



@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("bs", [64, 1024])
def test_distance_monotone_and_concave(ctx, record, judge, bs, scaling):
    recs = ctx.records(runs(ctx.scale, ctx.seeds, bs, scaling))
    sh = [shape(r) for r in recs]
    h = [s["h"] for s in sh]
    inc = [s["min_inc"] for s in sh]
    vh = verdicts.greater(*verdicts.mean_ci(h), H_THRESHOLD, f"{len(h)} seeds", f"W(T/2)/W(T) > {H_THRESHOLD:g}")
    vm = verdicts.greater(*verdicts.mean_ci(inc), 0.0, f"{len(inc)} seeds",
                          "min per-epoch increment of W / W(T) > 0")
    v = verdicts.all_of([vh, vm], detail="second differences <= 0: "
                        + ", ".join(f"{s['concave_steps']}/{s['n_second']}" for s in sh) + " per seed")
    record(finding="F10", reading=f"BS{bs} distance per epoch rises and flattens{scaling_label(scaling)}",
           verdict=v,
           post="monotone, sublinear (BS64 shown; BS1024 alike)",
           ours=f"W(T/2)/W(T) {np.mean(h):.3f}, min increment {np.mean(inc):.3g} of W(T)",
           protocol=recs[0]["config"] | {"phases": f"BS{bs} lr 0.01, 30 paper epochs"},
           figures=[draw(ctx, scaling)])
    judge(f"shape-bs{bs}-{scaling}", v)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_equal_steps_equal_distance(ctx, record, judge, scaling):
    if not long_runs_here(ctx.scale, scaling):
        pytest.skip("the 480-epoch arm with standard inputs runs at paper scale only (quick CI budget)")
    small = ctx.records(runs(ctx.scale, ctx.seeds, 64, scaling))
    big = ctx.records(runs(ctx.scale, ctx.seeds, 1024, scaling, LONG_EPOCHS))
    steps = small[0]["steps"]
    w64 = [r["history"]["w_dist"][-1] for r in small]
    w1024 = [geometry.distance_at_steps(r, [steps])[0] for r in big]
    delta = EQ_MARGIN * float(np.mean(w64))
    v = verdicts.equivalence(w1024, w64, delta, what="W(BS1024) - W(BS64) at equal steps")
    # the same comparison at every epoch of BS64, reported (not decisive)
    s64 = small[0]["history"]["step"][1:]
    gaps = [np.mean([geometry.distance_at_steps(b, [s])[0] for b in big]) /
            np.mean([r["history"]["w_dist"][i + 1] for r in small]) - 1 for i, s in enumerate(s64)]
    v.detail = (f"margin = {EQ_MARGIN:.0%} of BS64's mean W {np.mean(w64):.3f}, at {steps} steps "
                f"(BS1024 run: {big[0]['steps']} steps); relative gap at each BS64 epoch: "
                + ", ".join(f"{g:+.1%}" for g in gaps))
    record(finding="F10", reading=f"BS64 and BS1024 travel as far in the same number of steps{scaling_label(scaling)}",
           verdict=v, post="W 6.71 (BS64, 30 ep) vs 6.63 (BS1024, 480 ep)",
           ours=f"W {np.mean(w64):.3f} (BS64) vs {np.mean(w1024):.3f} (BS1024) at {steps} steps",
           figures=[draw(ctx, scaling)])
    judge(f"equal-steps-{scaling}", v)
