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
  "sum", "mean" and "step"): the fraction of |values| above 3 s_ref, s_ref =
  RMS of trial 0's BS1024 gradient in that regime under that reading (the
  same for "sum" and "mean"; 1024x it for "step", a summed loss);
- centre width (per reading "sum", "mean", "step"): the robust spread
  (1.4826 MAD about the median) of the nonzero values, not normalised.

Rule (per statistic and regime): the least-squares slope of the per-batch-size
mean of the per-trial statistic on log2 BS, with a 90% bootstrap interval over
trials, lies above 0 (below 0 for hill): supported; the opposite side:
contradicted. BS2 and BS1024 values and the zero counts are reported.

Centres alike (fixed 2026-12-01, before any run of it): the post says the
centre of the value distribution hardly changes with batch size while the
tail grows, and rests its explanation of F4 on that (larger norms from a
heavier tail, not from a wider distribution). Rule, per reading and regime:
ln(mean centre width at BS1024 / mean centre width at BS2), 90% bootstrap
interval over trials, inside 0 +- ln(CENTRE_FACTOR) (supported), wholly
outside (contradicted). CENTRE_FACTOR = 1.5: "quite similar" centres, read
as widths within half of each other; a centre twice as wide is a plainly
different histogram on the post's linear value axis, and under the post's
own sqrt(BS) law the norm grows 22.6x from BS2 to BS1024, so a centre that
moves by up to 1.5x leaves the growth to the tail, as the post says.

Fidelity (not a verdict): the post's counts beyond its highlighted value,
about 1e2 at BS2 and 1e5 at BS1024 over its 1000 trials x 10240 values,
beside ours beyond 3 s_ref, scaled to 1000 trials ("sum" reading, both
regimes: the post does not say which its numbers come from). Tolerance:
half a decade (COUNT_TOLERANCE), since the post gives orders of magnitude.
The highlighted value is not given; 3 s_ref is the suite's choice, so these
rows show how far our counts are at one plausible value, not a verdict. The
BS1024 row is nearly set by that choice (3 RMS of a BS1024 gradient leaves a
few percent of its values beyond, ~1e5 of 1e7); the BS2 row is the test.

Primary readings (claims/post.py): the literal count beyond one fixed value
("abs" readings) and the centres-alike rule under the "sum" reading, early
and late; the shape readings and the other readings are secondary.
"""
import math

import numpy as np
import pytest

from claims import figures, post
from harness import gradients, verdicts
from harness.claim import uses
from harness.expect import Known

FINDING = post.F7
SHAPES = {"exceed": +1, "kurtosis": +1, "hill": -1}  # sign of "heavier tail" as BS grows
ABS_READINGS = gradients.VALUE_READINGS  # "sum", "mean", "step": the readings whose values are summarised
COUNTS = (FINDING.numbers["count beyond the highlighted value, BS1024"], FINDING.numbers["same, BS2"])
CENTRE_FACTOR = 1.5     # "quite similar" centres: BS1024's centre width within 1.5x of BS2's, either way
COUNT_TOLERANCE = 0.5   # decades: the post's counts are orders of magnitude ("about 1e5", "about 1e2")
POST_TRIALS = 1000      # the post's trials per batch size: our counts are scaled to it
SMALL, LARGE = 2, 1024  # the batch sizes of the post's counts

KNOWN = (
    *(Known("quick", f"test_more_large_values_at_larger_batch[sum-{g}]", "contradicted",
            why="under the vector-sum reading small batches sum many more gradients than large ones, so nearly "
                "every value is large at small BS and the count falls as BS grows")
      for g in figures.REGIMES),
    *(Known("quick", f"test_centres_alike_across_batch_sizes[{r}-{g}]", "contradicted",
            why="the whole value distribution rescales with the batch size, its centre with it: under 'sum' "
                "it narrows by orders of magnitude from BS2 to BS1024, under 'step' it widens by about as "
                "much, under 'mean' it widens far less, more early than late")
      for r in ABS_READINGS for g in figures.REGIMES),
)

# --dataset fashion-mnist, quick scale, 3 seeds, measured on a 2-core Intel Xeon (2026-12-01).
KNOWN += (
    *(Known("quick", f"test_more_large_values_at_larger_batch[sum-{g}]", "contradicted", dataset="fashion-mnist",
            why="under the vector-sum reading the count beyond a fixed value falls as BS grows, as on MNIST")
      for g in figures.REGIMES),
    Known("quick", "test_tail_shape_heavier_at_larger_batch[hill-late]", "inconclusive", dataset="fashion-mnist",
          why="at the late start point the Hill index of the largest values hardly moves with batch size"),
    *(Known("quick", f"test_centres_alike_across_batch_sizes[{r}-{g}]", "contradicted", dataset="fashion-mnist",
            why="the value distribution rescales with the batch size, its centre with it, as on MNIST")
      for r in ABS_READINGS for g in figures.REGIMES),
)

# paper scale, 1000 trials per regime (the campaign's published chunks, 2026-12-02), measured on a 2-core Intel Xeon.
KNOWN += (
    *(Known("paper", f"test_more_large_values_at_larger_batch[sum-{g}]", "contradicted",
            why="as at quick scale: small batches sum many more gradients than large ones, so nearly every value "
                "is large at BS1 and few are at BS1024")
      for g in figures.REGIMES),
    *(Known("paper", f"test_centres_alike_across_batch_sizes[{r}-{g}]", "contradicted",
            why="the value distribution's centre rescales with the batch size: under 'sum' it narrows by "
                "orders of magnitude from BS2 to BS1024, under 'step' it widens by about as much, under 'mean' "
                "(early) it widens far less")
      for r, g in (("sum", "early"), ("sum", "late"), ("step", "early"), ("step", "late"), ("mean", "early"))),
)


def _figures(ctx, ex):
    return [figures.signed_ridgeline(ctx, ex), figures.gradient_values(ctx, ex, gradients.HIST_READINGS)]


def _column(bs):
    return list(gradients.BATCH_SIZES).index(bs)


def centre_log_ratio(widths):
    """ln(mean centre width at BS1024 / at BS2) (widths: trials x 15 batch sizes)."""
    m = widths.mean(0)
    return float(np.log(m[_column(LARGE)] / m[_column(SMALL)]))


def centres_alike_verdict(widths):
    """The rule: ln(centre ratio) within 0 +- ln(CENTRE_FACTOR), 90% bootstrap over trials."""
    est, ci = verdicts.bootstrap_rows(centre_log_ratio, widths)
    return verdicts.within(est, ci, 0.0, math.log(CENTRE_FACTOR), n=f"{len(widths)} trials",
                           rule=f"ln(centre width BS{LARGE} / BS{SMALL}) within 0 +- ln {CENTRE_FACTOR:g} "
                                f"(90% bootstrap CI over trials)")


def count_row(counts, post_value):
    """One fidelity row: counts (per trial) beyond the fixed value, scaled to the
    post's 1000 trials, against its number, within COUNT_TOLERANCE decades."""
    mean, ci = verdicts.mean_ci(np.asarray(counts, float) * POST_TRIALS)
    off = abs(math.log10(mean / post_value)) / COUNT_TOLERANCE if mean > 0 else math.inf
    return {"post": post_value, "ours": float(mean), "ci": (float(ci[0]), float(ci[1])),
            "tolerance": f"{COUNT_TOLERANCE:g} decade", "met": bool(off <= 1), "error": off}


def tail_trend(values, sign, what, detail):
    """The rule: slope of the per-BS mean of a per-trial statistic on log2 BS."""
    m = values.mean(0)
    against = int((np.diff(m) * sign < 0).sum())
    v, est = figures.trend_verdict(
        values, lambda a: a.mean(0), np.log2(figures.GRAD_BS), sign=sign,
        rule=f"slope of mean per-trial {what} vs log2 BS {'>' if sign > 0 else '<'} 0",
        detail=f"mean BS1 {m[0]:.4g}, BS2 {m[1]:.4g}, BS8 {m[7]:.4g}, BS64 {m[10]:.4g}, BS1024 {m[-1]:.4g}; "
               f"{against} of 14 adjacent steps against the claimed direction; {detail}")
    return v, {f"{what} BS2": m[1], f"{what} BS1024": m[-1], "slope": est}


@uses(gradients.required)
@pytest.mark.parametrize("regime", figures.REGIMES)
@pytest.mark.parametrize("stat", list(SHAPES))
def test_tail_shape_heavier_at_larger_batch(ctx, reading, ex, stat, regime):
    d, z = ex[regime], ex[regime]["zeros"]
    v, ours = tail_trend(d["tails"][stat], SHAPES[stat], stat,
                         f"exact zeros per trial excluded: median {np.median(z[:, 1]):.0f} at BS2, "
                         f"{np.median(z[:, -1]):.0f} at BS1024 (max {z.max()})")
    reading(v, f"[{stat}, {regime}] tail shape heavier at larger BS (scale-free: sum = mean)", ours=ours,
            post="tail mass falls monotonically as BS shrinks",
            figures=_figures(ctx, ex), protocol=gradients.protocol_note(ctx, ex))


@uses(gradients.required)
@pytest.mark.parametrize("regime", figures.REGIMES)
@pytest.mark.parametrize("variant", ABS_READINGS)
def test_more_large_values_at_larger_batch(ctx, reading, ex, variant, regime):
    d = ex[regime]
    v, ours = tail_trend(d["abs_exceed"][variant], +1, f"fraction of |g| > {gradients.ABS_C:g} s_ref",
                         f"s_ref = {d['s_ref_step' if variant == 'step' else 's_ref']:.4g} under '{variant}'")
    reading(v, f"[{variant}, {regime}] more values beyond a fixed {gradients.ABS_C:g} s_ref at larger BS", ours=ours,
            post="~1e{:.0f} (BS1024) vs ~1e{:.0f} (BS2) values beyond one large value".format(*np.log10(COUNTS)),
            figures=_figures(ctx, ex), protocol=gradients.protocol_note(ctx, ex))


@uses(gradients.required)
@pytest.mark.parametrize("regime", figures.REGIMES)
@pytest.mark.parametrize("variant", ABS_READINGS)
def test_centres_alike_across_batch_sizes(ctx, reading, ex, variant, regime):
    w = ex[regime]["centre"][variant]
    v = centres_alike_verdict(w)
    m = w.mean(0)
    reading(v, f"[{variant}, {regime}] centre width of the values alike at BS{SMALL} and BS{LARGE} "
               f"(within {CENTRE_FACTOR:g}x)", post="centres of the value distributions quite similar across BS",
            ours={f"width BS{SMALL}": m[_column(SMALL)], f"width BS{LARGE}": m[_column(LARGE)],
                  "ratio": math.exp(v.effect)},
            figures=_figures(ctx, ex), protocol=gradients.protocol_note(ctx, ex))


@uses(gradients.required)
def test_count_fidelity_rows(ctx, record, ex):
    for regime in figures.REGIMES:
        counts = ex[regime]["abs_count"]["sum"]
        for bs, post_value in ((LARGE, COUNTS[0]), (SMALL, COUNTS[1])):
            r = count_row(counts[:, _column(bs)], post_value)
            record("fidelity", finding="F7", quantity=f"values beyond {gradients.ABS_C:g} s_ref per "
                                                      f"{POST_TRIALS} trials, BS{bs}, {regime} ['sum' reading]",
                   post=r["post"], ours=r["ours"], ci=r["ci"], tolerance=r["tolerance"], met=r["met"],
                   note=f"{ctx.scale.name} scale, {len(counts)} trials scaled to {POST_TRIALS}; "
                        f"|log10(ours / post)| = {r['error'] * COUNT_TOLERANCE:.2f} decades")
            assert math.isfinite(r["ours"]), f"no finite count at BS{bs}, {regime}"
