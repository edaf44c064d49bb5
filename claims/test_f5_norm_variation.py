"""F5: at equal mean step size, larger batches vary more in how far they move.

The post rescales, for each batch size i, the mean and standard deviation of
the trial norms by mu_1024 / mu_i, so that every batch size has BS1024's mean,
and finds the rescaled standard deviation growing with batch size (against the
intuition that small batches are the noisy ones). Rescaling mean and std by
the same factor leaves std / mean unchanged, so the claim is that the
coefficient of variation (CV) of the norm across trials grows with BS. The
post gives no number beyond the direction.

Protocol: the trials of F4 (harness/gradients.py), every reading and regime.
The CV is scale-free, so "sum" and "mean" differ only through the short last
batch at BS 3, 5, 6, 7 (they coincide when BS divides 1024).

Rule (per reading and regime): the least-squares slope of log CV on log BS
over the 15 batch sizes, with a 90% bootstrap interval over trials, lies above
0 (supported) or below 0 (contradicted). CV at BS1, BS2 and BS1024 reported.
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


def cv(a):
    return a.std(0, ddof=1) / a.mean(0)


def draw(ctx, ex):
    key = str(ctx.report_dir)
    if key in _FIG:
        return _FIG[key]
    fig, axes = plots.figure(2, 1)
    bs = np.asarray(gradients.BATCH_SIZES, float)
    for regime, color in zip(REGIMES, ("tab:blue", "tab:green")):
        n = ex[regime]["norms"]["sum"]
        m, s = n.mean(0), n.std(0, ddof=1)
        scale = m[-1] / m
        axes[0].errorbar(bs * (1.06 if regime == "late" else 1.0), m * scale, yerr=s * scale, fmt="o", ms=3,
                         capsize=2, color=color, label=f"{regime} (n={len(n)})")
        for reading, ls in zip(READINGS, ("-", "--", ":", "-.")):
            axes[1].plot(bs, cv(ex[regime]["norms"][reading]), ls, marker="o", ms=2, color=color,
                         label=f"{regime}, {reading}")
    axes[0].set(xscale="log", xlabel="batch size", ylabel="norm x mu_1024/mu_BS",
                title="normalised mean +- normalised std ('sum')")
    axes[1].set(xscale="log", yscale="log", xlabel="batch size", ylabel="CV = std / mean of trial norms",
                title="coefficient of variation, all readings")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle(f"F5: spread of the step size at equal mean ({ctx.scale.name} scale)")
    _FIG[key] = plots.save(fig, ctx.report_dir, "f5_norm_variation")
    return _FIG[key]


@pytest.mark.parametrize("regime", REGIMES)
@pytest.mark.parametrize("reading", READINGS)
def test_cv_grows_with_batch_size(ctx, record, judge, ex, reading, regime):
    n = ex[regime]["norms"][reading]
    lbs = np.log(np.asarray(gradients.BATCH_SIZES, float))
    est, ci = verdicts.bootstrap_rows(lambda a: verdicts.slope(lbs, np.log(cv(a))), n)
    c = cv(n)
    v = verdicts.greater(est, ci, 0.0, n=f"{len(n)} trials x 15 batch sizes",
                         rule="log-log slope of CV(norm) vs BS > 0 (90% bootstrap CI over trials)",
                         detail=f"CV BS1 {c[0]:.4g}, BS2 {c[1]:.4g}, BS8 {c[7]:.4g}, BS1024 {c[-1]:.4g}")
    record(finding="F5", reading=f"[{reading}, {regime}] CV of the norm grows with batch size", verdict=v,
           post="normalised std grows with BS", ours=f"slope {est:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]; "
                                                     f"CV {c[0]:.3g} (BS1) -> {c[-1]:.3g} (BS1024)",
           protocol=gradients.protocol_note(ctx, ex), figures=[draw(ctx, ex)])
    judge(f"{reading}-{regime}-cv", v)
