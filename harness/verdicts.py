"""The rules that turn measurements into verdicts.

Every rule returns a Verdict: supported, contradicted or inconclusive, with
the effect, its confidence interval, n, the margin, the rule in words and
p_contra, the one-sided p-value of the contradiction (how surprising the data
would be if the claim held at its margin). Intervals are two-sided 90%, i.e.
each side is a one-sided test at 5%, which is also what TOST uses for
equivalence. The interval decides:

    greater(thr):      supported if lo > thr,       contradicted if hi < thr
    within(t, m):      supported if [lo, hi] inside (t-m, t+m),
                       contradicted if it lies wholly outside
    two samples A, B:  the same on the Welch interval of mean(A) - mean(B)
    paired A, B:       the same on the t interval of the per-seed
                       differences A[i] - B[i] (paired_*: arms that share
                       a seed's initial weights and shuffle order)

Anything else is inconclusive: the data cannot tell at this n. With one seed
there is no interval and every two-sample rule is inconclusive.

An interval is a CI: a (lo, hi) tuple that also knows the one-sided p-value
of "the true effect lies below (or above) x" from the same distribution that
gave the interval (t for seeds, the bootstrap replicates for trials), so that
a finding can combine its primary readings with a multiplicity correction
(harness/findings.py). A Verdict is frozen: a claim builds it whole, with its
detail, and never patches it afterwards.

Paired or Welch. Two arms trained with the same seed start from the same
weights (model.init_params(seed)) and draw the same permutation at every
epoch (trainer: one torch.Generator seeded with seed + 7919, one randperm of
the training set per epoch, whatever the batch size, learning rate, optimizer
or phase), so run i of arm A and run i of arm B share both sources of
randomness: their difference is one draw of the arm effect, and the t
interval on the n differences (paired_*) removes the seed-to-seed variation
the two arms share. Welch (superiority, noninferiority, equivalence) is for
arms whose runs share neither: different seed lists, or samples that are not
runs (trials).

How many seeds (`seeds_for_precision`): a paired reading with margin m is
decided, when the true effect sits at least m/2 from m, once the interval's
half-width t(0.95, n-1) * sd / sqrt(n) is at most m/2, sd being the
seed-to-seed SD of the per-seed differences. For a superiority reading at 0
the half-width target is half the effect the post reports. Measured at quick
scale (3 seeds, 2026-12-01): the paired accuracy differences of the primary
non-inferiority readings (F2, F3, F9; margin 0.5 point, target +-0.25) have
SDs 0.08-0.20 points, pooled 0.14 (10 df; 90% upper bound 0.21). 3 seeds
meet the target only for SD <= 0.15, 4 for SD <= 0.21, 5 for SD <= 0.26:
the paper scale needs 4 seeds (the pooled bound and every single SD
measured), and its default 5 leaves room for SDs a quarter larger. The
superiority readings (F1, F2 improves, F3 vs-control, F11; targets of 1
point and more) need 2-3.
"""
import math
from dataclasses import replace, asdict, dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.90
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
NAN = (math.nan, math.nan)


class CI(tuple):
    """(lo, hi), plus p(side, x): the one-sided p-value of H1 "effect < x"
    (side "below") or "effect > x" (side "above"); None when unknown."""

    def __new__(cls, lo, hi, pvalue=None):
        self = super().__new__(cls, (float(lo), float(hi)))
        self._pvalue = pvalue
        return self

    def p(self, side, x):
        if self._pvalue is None or any(map(math.isnan, self)):
            return None
        return float(min(1.0, max(0.0, self._pvalue(side, x))))


def _ci(ci):
    return ci if isinstance(ci, CI) else CI(*ci)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    rule: str
    effect: float
    ci: tuple[float, float]
    n: str
    margin: float
    confidence: float = CONFIDENCE
    detail: str = ""
    p_contra: float | None = None
    # A margin computed from the data (e.g. 10% of a reference run's mean): the
    # rule that sets it, which holds at every scale and on every data set. The
    # rules lock (harness/rules.py) compares this, not the number it gave.
    margin_rule: str = ""

    @property
    def supported(self):
        return self.verdict == SUPPORTED

    @property
    def decided(self):
        """False when the interval is undefined (NaN), e.g. a single seed."""
        return not any(map(math.isnan, self.ci))

    def as_dict(self):
        return asdict(self)

    def __str__(self):
        lo, hi = self.ci
        return (f"{self.verdict}: effect {self.effect:.4g} [{lo:.4g}, {hi:.4g}] "
                f"({self.confidence:.0%} CI, n={self.n}); rule: {self.rule}"
                + (f"; {self.detail}" if self.detail else ""))


def _decide(lo, hi, supported, contradicted):
    if any(map(math.isnan, (lo, hi))):
        return INCONCLUSIVE
    return SUPPORTED if supported else CONTRADICTED if contradicted else INCONCLUSIVE


def _join(*parts):
    return "; ".join(p for p in parts if p)


def greater(effect, ci, threshold=0.0, n="", rule="", detail="") -> Verdict:
    ci = _ci(ci)
    lo, hi = ci
    v = _decide(lo, hi, lo > threshold, hi < threshold)
    return Verdict(v, rule or f"effect > {threshold:g}", float(effect), (lo, hi), str(n), threshold,
                   detail=detail, p_contra=ci.p("below", threshold))


def less(effect, ci, threshold=0.0, n="", rule="", detail="") -> Verdict:
    ci = _ci(ci)
    lo, hi = ci
    v = _decide(lo, hi, hi < threshold, lo > threshold)
    return Verdict(v, rule or f"effect < {threshold:g}", float(effect), (lo, hi), str(n), threshold,
                   detail=detail, p_contra=ci.p("above", threshold))


def within(effect, ci, target, margin, n="", rule="", detail="") -> Verdict:
    ci = _ci(ci)
    lo, hi = ci
    v = _decide(lo, hi, target - margin < lo and hi < target + margin, lo > target + margin or hi < target - margin)
    pa, pb = ci.p("above", target + margin), ci.p("below", target - margin)
    p = None if pa is None else min(1.0, 2 * min(pa, pb))  # either side contradicts: Bonferroni over the two
    return Verdict(v, rule or f"effect within {target:g} +- {margin:g}", float(effect), (lo, hi),
                   str(n), margin, detail=detail, p_contra=p)


def greater_than_band(effect, ci, band, n="", rule="", detail="") -> Verdict:
    """A two-sided claim with an indifference band (lo_edge, hi_edge): supported
    if the interval lies above hi_edge, contradicted if it lies below lo_edge
    (the opposite effect, by as much), inconclusive if it reaches into the band."""
    ci = _ci(ci)
    lo, hi = ci
    lo_edge, hi_edge = band
    v = _decide(lo, hi, lo > hi_edge, hi < lo_edge)
    return Verdict(v, rule or f"effect > {hi_edge:g} (contradicted below {lo_edge:g})", float(effect), (lo, hi),
                   str(n), hi_edge, detail=detail, p_contra=ci.p("below", lo_edge))


# -- intervals ----------------------------------------------------------------
def _point(d):
    """The p-value function of an effect known exactly (zero variance)."""
    return lambda side, x: float(d >= x) if side == "below" else float(d <= x)


def welch(a, b, confidence=CONFIDENCE):
    """mean(a) - mean(b) and its Welch t interval (unequal variances)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return diff, CI(*NAN)
    if a.var() == 0 and b.var() == 0:
        return diff, CI(diff, diff, _point(diff))
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)

    def p(side, x):  # shifting a by x tests mean(a) - mean(b) against x
        alt = "less" if side == "below" else "greater"
        return stats.ttest_ind(a - x, b, equal_var=False, alternative=alt).pvalue
    return diff, CI(ci.low, ci.high, p)


def mean_ci(a, confidence=CONFIDENCE):
    """Mean and its t interval; (mean, (nan, nan)) with fewer than 2 values."""
    a = np.asarray(a, float)
    m = float(a.mean())
    if len(a) < 2:
        return m, CI(*NAN)
    if a.var() == 0:
        return m, CI(m, m, _point(m))
    ci = stats.ttest_1samp(a, 0).confidence_interval(confidence)

    def p(side, x):
        return stats.ttest_1samp(a, x, alternative="less" if side == "below" else "greater").pvalue
    return m, CI(ci.low, ci.high, p)


def _from_replicates(vals, confidence=CONFIDENCE):
    """Percentile interval of bootstrap replicates, and the matching p-values:
    "effect < x" is as significant as the share of replicates at or above x."""
    vals = np.asarray(vals, float)
    alpha = (1 - confidence) / 2

    def p(side, x):
        k = (vals >= x).sum() if side == "below" else (vals <= x).sum()
        return (k + 1) / (len(vals) + 1)
    return CI(np.quantile(vals, alpha), np.quantile(vals, 1 - alpha), p)


def bootstrap_ci(statistic, *samples, confidence=CONFIDENCE, n_resamples=2000, seed=0):
    """Percentile bootstrap over the first axis of each sample (e.g. trials)."""
    samples = tuple(np.asarray(s) for s in samples)
    est = statistic(*samples)
    res = stats.bootstrap(samples, statistic, paired=len(samples) > 1, vectorized=False,
                          confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                          random_state=np.random.default_rng(seed))
    return est, _from_replicates(res.bootstrap_distribution, confidence)


def _n(a, b, unit):
    return f"{len(a)} vs {len(b)} {unit}"


# -- two-sample rules (over seeds) ---------------------------------------------
def superiority(a, b, margin=0.0, unit="seeds", what="mean(A) - mean(B)", detail="") -> Verdict:
    """A > B: the Welch interval of mean(A) - mean(B) lies above margin."""
    d, ci = welch(a, b)
    return greater(d, ci, margin, _n(a, b, unit), f"{what} > {margin:g} (Welch {CONFIDENCE:.0%} CI)", detail)


def noninferiority(a, b, delta, unit="seeds", what="mean(A) - mean(B)", detail="") -> Verdict:
    """A is not worse than B by more than delta: the interval lies above -delta."""
    d, ci = welch(a, b)
    return greater(d, ci, -delta, _n(a, b, unit),
                   f"{what} > -{delta:g} (non-inferiority, Welch {CONFIDENCE:.0%} CI)", detail)


def equivalence(a, b, delta, unit="seeds", what="mean(A) - mean(B)", detail="") -> Verdict:
    """A is about B: the interval lies inside (-delta, delta) (TOST at 5%)."""
    d, ci = welch(a, b)
    return within(d, ci, 0.0, delta, _n(a, b, unit), f"|{what}| < {delta:g} (TOST, Welch {CONFIDENCE:.0%} CI)",
                  detail)


# -- paired rules (over seeds that share init and shuffle order) ---------------
def paired_diff(a, b, confidence=CONFIDENCE):
    """mean(a - b) over pairs (a[i], b[i] trained with the same seed) and the
    t interval of the per-pair differences (scipy's ttest_rel)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need one value per seed on both sides: {len(a)} vs {len(b)}")
    return mean_ci(a - b, confidence)


def _paired_n(a, unit):
    return f"{len(a)} paired {unit}"


def _sd_detail(a, b, detail):
    d = np.subtract(np.asarray(a, float), np.asarray(b, float))
    return _join(detail, f"SD of the per-seed differences {d.std(ddof=1):.3g}" if len(d) > 1 else "")


def paired_superiority(a, b, margin=0.0, unit="seeds", what="mean(A - B)", detail="") -> Verdict:
    """A > B, seed by seed: the paired t interval of A - B lies above margin."""
    d, ci = paired_diff(a, b)
    return greater(d, ci, margin, _paired_n(a, unit), f"{what} > {margin:g} (paired t {CONFIDENCE:.0%} CI)",
                   _sd_detail(a, b, detail))


def paired_noninferiority(a, b, delta, unit="seeds", what="mean(A - B)", detail="") -> Verdict:
    """A is not worse than B by more than delta: the paired interval lies above -delta."""
    d, ci = paired_diff(a, b)
    return greater(d, ci, -delta, _paired_n(a, unit),
                   f"{what} > -{delta:g} (non-inferiority, paired t {CONFIDENCE:.0%} CI)", _sd_detail(a, b, detail))


def paired_equivalence(a, b, delta, unit="seeds", what="mean(A - B)", detail="") -> Verdict:
    """A is about B: the paired interval lies inside (-delta, delta) (paired TOST at 5%)."""
    d, ci = paired_diff(a, b)
    return within(d, ci, 0.0, delta, _paired_n(a, unit),
                  f"|{what}| < {delta:g} (TOST, paired t {CONFIDENCE:.0%} CI)", _sd_detail(a, b, detail))


def relative_margin(v: Verdict, margin_rule: str) -> Verdict:
    """v, its margin declared as derived from the data by margin_rule."""
    return replace(v, margin_rule=margin_rule)


def seeds_for_precision(sd, half_width, confidence=CONFIDENCE, n_max=10_000) -> int:
    """The fewest seeds n (at least 2) whose t interval of a mean, at the given
    SD of the per-seed values, is no wider than +-half_width:
    t(1 - alpha/2, n - 1) * sd / sqrt(n) <= half_width."""
    if half_width <= 0 or not math.isfinite(sd):
        raise ValueError(f"need a positive half-width and a finite SD, got {half_width}, {sd}")
    q = 1 - (1 - confidence) / 2
    for n in range(2, n_max + 1):
        if stats.t.ppf(q, n - 1) * sd / math.sqrt(n) <= half_width:
            return n
    raise ValueError(f"more than {n_max} seeds for half-width {half_width} at SD {sd}")


def monotone(xs, groups, increasing=True, margin=0.0, unit="seeds", what="last - first", detail="",
             paired=False) -> Verdict:
    """The mean of groups[i] moves one way as xs grows. paired: groups[i][k]
    share seed k (same init and shuffle order), and every interval is the t
    interval of per-seed differences instead of Welch's.

    Supported: the last group exceeds the first (interval above margin)
    and no adjacent pair shows a significant reversal (an interval wholly on
    the wrong side of -margin). Contradicted: a significant reversal, or the
    last group significantly not above the first. Effect: last - first, signed
    so that positive means the claimed direction (`what` names it). p_contra:
    the smaller of the last-vs-first p-value and the Bonferroni-adjusted
    smallest reversal p-value."""
    sign = 1.0 if increasing else -1.0
    g = [sign * np.asarray(v, float) for v in groups]
    diff = paired_diff if paired else welch
    d, ci = diff(g[-1], g[0])
    reversals, p_rev = [], []
    for (x0, a), (x1, b) in zip(zip(xs, g), zip(xs[1:], g[1:])):
        _, pair = diff(b, a)
        if pair[1] < -margin:
            reversals.append(f"{x0}->{x1}")
        p_rev.append(pair.p("below", -margin))
    lo, hi = ci
    if math.isnan(lo):
        v = INCONCLUSIVE
    elif reversals or hi < margin:
        v = CONTRADICTED
    elif lo > margin:
        v = SUPPORTED
    else:
        v = INCONCLUSIVE
    p_last = ci.p("below", margin)
    p = None if p_last is None or None in p_rev else min(1.0, p_last, len(p_rev) * min(p_rev))
    means = ", ".join(f"{x}: {sign * m.mean():.4g}" for x, m in zip(xs, g))
    how = "paired t" if paired else "Welch"
    return Verdict(v, f"{'increasing' if increasing else 'decreasing'} in x: {what} > {margin:g} and no "
                      f"adjacent pair reversed ({how} {CONFIDENCE:.0%} CIs)", d, tuple(ci),
                   f"{len(groups)} groups x {min(len(x) for x in groups)} {'paired ' if paired else ''}{unit}", margin,
                   detail=_join(detail, f"means {means}", f"reversed: {', '.join(reversals)}" if reversals else ""),
                   p_contra=p)


# -- combinations and correlations ---------------------------------------------------
def all_of(verdicts, effect_from=0, detail="") -> Verdict:
    """Conjunction of sub-rules: supported if every part is, contradicted if any
    part is, inconclusive otherwise. Effect, CI and n come from verdicts[effect_from];
    the rule and detail list every part; p_contra is the Bonferroni-adjusted
    smallest part p-value (any part contradicts)."""
    vs = list(verdicts)
    states = [v.verdict for v in vs]
    v = SUPPORTED if all(s == SUPPORTED for s in states) else \
        CONTRADICTED if CONTRADICTED in states else INCONCLUSIVE
    head = vs[effect_from]
    ps = [x.p_contra for x in vs]
    parts = "; ".join(f"[{i + 1}] {x.verdict}: {x.effect:.4g} [{x.ci[0]:.4g}, {x.ci[1]:.4g}] vs {x.rule}"
                      + (f" ({x.detail})" if x.detail else "") for i, x in enumerate(vs))
    return Verdict(v, " AND ".join(f"[{i + 1}] {x.rule}" for i, x in enumerate(vs)), head.effect, head.ci,
                   head.n, head.margin, detail=_join(detail, parts),
                   p_contra=None if None in ps else min(1.0, len(ps) * min(ps)))


def rank_correlation(xs_by_cell, ys_by_cell, threshold=0.0, n_resamples=2000, seed=0, what="", detail="") -> Verdict:
    """Spearman correlation across cells between the cell means of x and of y.

    xs_by_cell[i], ys_by_cell[i]: paired per-seed values of cell i (x and y
    measured on the same run). The interval is a percentile bootstrap that
    resamples seeds within each cell, keeping each run's (x, y) pair together.
    Supported if the interval lies above threshold, contradicted if below it.
    With fewer than 2 seeds in some cell there is no interval (inconclusive)."""
    xs = [np.asarray(x, float) for x in xs_by_cell]
    ys = [np.asarray(y, float) for y in ys_by_cell]

    def rho(xm, ym):
        return float(stats.spearmanr(xm, ym).statistic)

    est = rho([x.mean() for x in xs], [y.mean() for y in ys])
    n_min = min(len(x) for x in xs)
    if n_min < 2:
        ci = CI(*NAN)
    else:
        rng = np.random.default_rng(seed)
        boots = []
        for _ in range(n_resamples):
            xm, ym = [], []
            for x, y in zip(xs, ys):
                idx = rng.integers(0, len(x), len(x))
                xm.append(x[idx].mean())
                ym.append(y[idx].mean())
            r = rho(xm, ym)
            boots.append(-1.0 if math.isnan(r) else r)  # a resample with no spread in a variable ranks nothing
        ci = _from_replicates(boots)
    return greater(est, ci, threshold, f"{len(xs)} cells x {n_min} seeds",
                   f"Spearman rho{' of ' + what if what else ''} > {threshold:g} (bootstrap {CONFIDENCE:.0%} CI "
                   f"over seeds within cells)", detail)


def bootstrap_rows(statistic, *matrices, confidence=CONFIDENCE, n_resamples=2000, seed=0):
    """Percentile bootstrap over rows (e.g. trials) of one or more arrays that
    share their rows (resampled together, i.e. paired). statistic(*arrays) ->
    float. Returns (estimate, CI); used where a statistic needs whole rows (a
    fit across batch sizes), which `bootstrap_ci` would split."""
    arrays = [np.asarray(m, float) for m in matrices]
    n = len(arrays[0])
    est = float(statistic(*arrays))
    if n < 2:
        return est, CI(*NAN)
    rng = np.random.default_rng(seed)
    vals = np.array([statistic(*(a[idx] for a in arrays)) for idx in rng.integers(0, n, (n_resamples, n))], float)
    return est, _from_replicates(vals, confidence)


def slope(x, y):
    """Least-squares slope of y against x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc * xc).sum())
