"""F6: large batches make both very large and very small updates, depending on
which samples are drawn; small batches make updates of about the same size.

The post plots, per batch size, the histogram of the trial norms rescaled by
mu_1024 / mu_i (all centred on BS1024's mean) and sees the histograms widen
as the batch grows, in the early and the late regime alike. No number given.

Protocol: the trials of F4 (harness/gradients.py), every reading and regime.
The distribution of norm / mean is scale-free, so "sum" and "mean" differ
only through the short last batch at BS 3, 5, 6, 7.

Rule (per reading and regime): the spread of the normalised distribution is
the interdecile range (q90 - q10) of norm / mean(norm) at each batch size;
the least-squares slope of log spread on log BS over the 15 batch sizes, with
a 90% bootstrap interval over trials, must lie above 0 (supported; below 0:
contradicted). The spread at BS2 and BS1024 is reported.
"""
import numpy as np
import pytest

from harness import gradients, plots, verdicts

READINGS = gradients.READINGS
REGIMES = ("early", "late")

KNOWN = {}
_FIG = {}


def required(scale, seeds):
    return gradients.required(scale, seeds)


def spread(a):
    q10, q90 = np.quantile(a, [0.1, 0.9], axis=0)
    return (q90 - q10) / a.mean(0)


def draw(ctx, ex):
    key = str(ctx.report_dir)
    if key in _FIG:
        return _FIG[key]
    fig, axes = plots.figure(2, 1, size=(5.0, 6.0))
    bss = gradients.BATCH_SIZES
    for ax, regime, color in zip(axes, REGIMES, ("tab:purple", "tab:blue")):
        n = ex[regime]["norms"]["sum"]
        z = n / n.mean(0)  # = norm x mu_1024/mu_i, in units of mu_1024
        edges = np.linspace(0.0, max(2.0, float(z.max()) * 1.02), 41)
        for j, B in enumerate(bss):
            h, _ = np.histogram(z[:, j], edges)
            h = h / max(1, h.max()) * 0.9
            ax.fill_between(edges[:-1], j, j + h, step="post", color=color, alpha=0.6, lw=0)
            ax.plot(edges[:-1], j + h, drawstyle="steps-post", color="k", lw=0.4)
        ax.set_yticks(range(len(bss)), [str(b) for b in bss], fontsize=7)
        ax.set(xlabel="trial norm / mean norm at its BS", ylabel="batch size",
               title=f"{regime} regime, reading 'sum' (n={len(n)} per row)")
    fig.suptitle(f"F6: normalised norm distributions per batch size ({ctx.scale.name} scale)")
    _FIG[key] = plots.save(fig, ctx.report_dir, "f6_norm_distribution")
    return _FIG[key]


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("reading", READINGS)
def test_normalised_spread_grows_with_batch_size(ctx, record, judge, ex, reading, regime):
    n = ex[regime]["norms"][reading]
    lbs = np.log(np.asarray(gradients.BATCH_SIZES, float))
    est, ci = verdicts.bootstrap_rows(lambda a: verdicts.slope(lbs, np.log(spread(a))), n)
    s = spread(n)
    v = verdicts.greater(est, ci, 0.0, n=f"{len(n)} trials x 15 batch sizes",
                         rule="log-log slope of (q90-q10)/mean of the norm vs BS > 0 (90% bootstrap CI over trials)",
                         detail=f"interdecile/mean BS1 {s[0]:.4g}, BS2 {s[1]:.4g}, BS8 {s[7]:.4g}, "
                                f"BS64 {s[10]:.4g}, BS1024 {s[-1]:.4g}")
    record(finding="F6", reading=f"[{reading}, {regime}] normalised norm distribution widens with batch size",
           verdict=v, post="histograms of normalised norms widen with BS, early and late",
           ours=f"slope {est:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]; spread {s[1]:.3g} (BS2) -> {s[-1]:.3g} (BS1024)",
           protocol=gradients.protocol_note(ctx, ex), figures=[draw(ctx, ex)])
    judge(f"{reading}-{regime}-spread", v)
