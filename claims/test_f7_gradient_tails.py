"""F7: the individual gradient values have a heavier tail at larger batch sizes.

The post bins every one of the 10240 last-layer gradient values of all its
1000 trials per batch size (not rescaled) and, at one large value on the axis,
counts about 1e5 values for BS1024 against about 1e2 for BS2; it says the
count of large values falls monotonically as the batch shrinks while the
centres of the distributions stay alike, and concludes that the larger norm
of large batches comes from a heavier tail.

Protocol: the trials of F4 (harness/gradients.py). Per trial and batch size,
statistics of the 10240 values of the accumulated gradient, exact zeros (dead
ReLU units: whole columns) counted and excluded; values are never pooled
across trials for a verdict:
- shape readings (scale-free, hence the same for "sum" and "mean"):
  exceed = fraction beyond 5 robust spreads (1.4826 MAD) of the median,
  kurtosis = excess kurtosis, hill = Hill tail index on the 100 largest
  |values| (a smaller index is a heavier tail);
- absolute readings (the post's literal count at one fixed value, per reading
  "sum" and "mean"): the fraction of |values| above 3 s_ref, s_ref = RMS of
  trial 0's BS1024 gradient in that regime.

Rule (per statistic and regime): the least-squares slope of the per-batch-size
mean of the per-trial statistic on log2 BS, with a 90% bootstrap interval over
trials, lies above 0 (below 0 for hill): supported; the opposite side:
contradicted. BS2 and BS1024 values and the zero counts are reported.
"""
import numpy as np
import pytest

from harness import gradients, plots, verdicts

REGIMES = ("early", "late")
SHAPES = {"exceed": +1, "kurtosis": +1, "hill": -1}  # sign of "heavier tail" as BS grows
ABS_READINGS = ("sum", "mean")

KNOWN = {
    ("quick", f"abs-sum-{g}"): (
        "measured at quick scale (32 trials): under the vector-sum reading small batches sum up to 1024 "
        "gradients, so nearly every value is large: fraction beyond 3 s_ref 0.96 (BS2) -> 0.02 (BS1024), "
        "slope -0.10 per doubling, every step against the claim")
    for g in REGIMES
}
_FIG = {}


def required(scale, seeds):
    return gradients.required(scale, seeds)


def draw(ctx, ex):
    key = str(ctx.report_dir)
    if key in _FIG:
        return _FIG[key]
    fig, axes = plots.figure(2, 2)
    bss = gradients.BATCH_SIZES
    cmap = plots.plt.get_cmap("viridis")
    for ax, (regime, reading) in zip(axes, [(g, r) for g in REGIMES for r in ABS_READINGS]):
        d = ex[regime]
        edges = d["hist_edges"]
        centres = 10 ** ((edges[:-1] + edges[1:]) / 2)
        for j, B in enumerate(bss):
            h = d["hist"][reading][j][1:-1].astype(float)  # drop under/overflow bins
            h[h == 0] = np.nan
            ax.plot(centres, h, color=cmap(j / (len(bss) - 1)), lw=0.8, label=f"BS{B}" if j % 2 == 0 else None)
        ax.axvline(gradients.ABS_C, color="r", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="|gradient value| / s_ref", ylabel="count (all trials)",
               title=f"{regime}, reading '{reading}' (red: {gradients.ABS_C:g} s_ref)")
    axes[0].legend(fontsize=6, ncol=2)
    fig.suptitle(f"F7: histograms of the 10240 last-layer gradient values per batch size, "
                 f"{len(ex['early']['trials'])} trials ({ctx.scale.name} scale)")
    _FIG[key] = plots.save(fig, ctx.report_dir, "f7_gradient_values")
    return _FIG[key]


def _judge_trend(values, sign, what):
    x = np.log2(np.asarray(gradients.BATCH_SIZES, float))
    est, ci = verdicts.bootstrap_rows(lambda a: verdicts.slope(x, a.mean(0)), values)
    m = values.mean(0)
    steps = np.diff(m) * sign
    detail = (f"mean BS1 {m[0]:.4g}, BS2 {m[1]:.4g}, BS8 {m[7]:.4g}, BS64 {m[10]:.4g}, BS1024 {m[-1]:.4g}; "
              f"{int((steps < 0).sum())} of 14 adjacent steps against the claimed direction")
    n = f"{len(values)} trials x 15 batch sizes"
    rule = f"slope of mean per-trial {what} vs log2 BS {'>' if sign > 0 else '<'} 0 (90% bootstrap CI over trials)"
    v = (verdicts.greater if sign > 0 else verdicts.less)(est, ci, 0.0, n=n, rule=rule, detail=detail)
    return v, m, (est, ci)


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("stat", list(SHAPES))
def test_tail_shape_heavier_at_larger_batch(ctx, record, judge, ex, stat, regime):
    d = ex[regime]
    v, m, (est, ci) = _judge_trend(d["tails"][stat], SHAPES[stat], stat)
    z = d["zeros"]
    v.detail += f"; exact zeros per trial excluded: median {np.median(z[:, 1]):.0f} at BS2, " \
                f"{np.median(z[:, -1]):.0f} at BS1024 (max {z.max()})"
    record(finding="F7", reading=f"[{stat}, {regime}] tail shape heavier at larger BS (scale-free: sum = mean)",
           verdict=v, post="tail mass falls monotonically as BS shrinks",
           ours=f"{stat} {m[1]:.4g} (BS2) -> {m[-1]:.4g} (BS1024); slope {est:.4g} [{ci[0]:.4g}, {ci[1]:.4g}]",
           protocol=gradients.protocol_note(ctx, ex), figures=[draw(ctx, ex)])
    judge(f"{stat}-{regime}", v)


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("reading", ABS_READINGS)
def test_more_large_values_at_larger_batch(ctx, record, judge, ex, reading, regime):
    d = ex[regime]
    v, m, (est, ci) = _judge_trend(d["abs_exceed"][reading], +1, f"fraction of |g| > {gradients.ABS_C:g} s_ref")
    v.detail += f"; s_ref = {d['s_ref']:.4g}"
    record(finding="F7", reading=f"[{reading}, {regime}] more values beyond a fixed {gradients.ABS_C:g} s_ref "
                                 f"at larger BS", verdict=v,
           post="~1e5 (BS1024) vs ~1e2 (BS2) of 1e7 values beyond one large value",
           ours=f"fraction {m[1]:.3g} (BS2) -> {m[-1]:.3g} (BS1024)",
           protocol=gradients.protocol_note(ctx, ex), figures=[draw(ctx, ex)])
    judge(f"abs-{reading}-{regime}", v)
