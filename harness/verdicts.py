"""The rules that turn measurements into verdicts.

Every rule returns a Verdict: supported, contradicted or inconclusive, with
the effect, its confidence interval, n, the margin and the rule in words.
Intervals are two-sided 90%, i.e. each side is a one-sided test at 5%, which
is also what TOST uses for equivalence. The interval decides:

    greater(thr):      supported if lo > thr,       contradicted if hi < thr
    within(t, m):      supported if [lo, hi] inside (t-m, t+m),
                       contradicted if it lies wholly outside
    two samples A, B:  the same on the Welch interval of mean(A) - mean(B)

Anything else is inconclusive: the data cannot tell at this n. With one seed
there is no interval and every two-sample rule is inconclusive.
"""
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.90
SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"


@dataclass
class Verdict:
    verdict: str
    rule: str
    effect: float
    ci: tuple[float, float]
    n: str
    margin: float
    confidence: float = CONFIDENCE
    detail: str = ""

    @property
    def supported(self):
        return self.verdict == SUPPORTED

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


def greater(effect, ci, threshold=0.0, n="", rule="", detail="") -> Verdict:
    lo, hi = ci
    v = _decide(lo, hi, lo > threshold, hi < threshold)
    return Verdict(v, rule or f"effect > {threshold:g}", float(effect), (float(lo), float(hi)), str(n), threshold, detail=detail)


def less(effect, ci, threshold=0.0, n="", rule="", detail="") -> Verdict:
    lo, hi = ci
    v = _decide(lo, hi, hi < threshold, lo > threshold)
    return Verdict(v, rule or f"effect < {threshold:g}", float(effect), (float(lo), float(hi)), str(n), threshold, detail=detail)


def within(effect, ci, target, margin, n="", rule="", detail="") -> Verdict:
    lo, hi = ci
    v = _decide(lo, hi, target - margin < lo and hi < target + margin, lo > target + margin or hi < target - margin)
    return Verdict(v, rule or f"effect within {target:g} +- {margin:g}", float(effect), (float(lo), float(hi)),
                   str(n), margin, detail=detail)


# -- intervals ----------------------------------------------------------------
def welch(a, b, confidence=CONFIDENCE):
    """mean(a) - mean(b) and its Welch t interval (unequal variances)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = a.mean() - b.mean()
    if len(a) < 2 or len(b) < 2:
        return diff, (math.nan, math.nan)
    if a.var() == 0 and b.var() == 0:
        return diff, (diff, diff)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)
    return diff, (ci.low, ci.high)


def mean_ci(a, confidence=CONFIDENCE):
    """Mean and its t interval; (mean, (nan, nan)) with fewer than 2 values."""
    a = np.asarray(a, float)
    m = a.mean()
    if len(a) < 2:
        return m, (math.nan, math.nan)
    if a.var() == 0:
        return m, (m, m)
    ci = stats.ttest_1samp(a, 0).confidence_interval(confidence)
    return m, (ci.low, ci.high)


def bootstrap_ci(statistic, *samples, confidence=CONFIDENCE, n_resamples=2000, seed=0):
    """Percentile bootstrap over the first axis of each sample (e.g. trials)."""
    samples = tuple(np.asarray(s) for s in samples)
    est = statistic(*samples)
    res = stats.bootstrap(samples, statistic, paired=len(samples) > 1, vectorized=False,
                          confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                          random_state=np.random.default_rng(seed))
    return est, (res.confidence_interval.low, res.confidence_interval.high)


def _n(a, b, unit):
    return f"{len(a)} vs {len(b)} {unit}"


# -- two-sample rules (over seeds) ---------------------------------------------
def superiority(a, b, margin=0.0, unit="seeds", what="mean(A) - mean(B)") -> Verdict:
    """A > B: the Welch interval of mean(A) - mean(B) lies above margin."""
    d, ci = welch(a, b)
    return greater(d, ci, margin, _n(a, b, unit), f"{what} > {margin:g} (Welch {CONFIDENCE:.0%} CI)")


def noninferiority(a, b, delta, unit="seeds", what="mean(A) - mean(B)") -> Verdict:
    """A is not worse than B by more than delta: the interval lies above -delta."""
    d, ci = welch(a, b)
    return greater(d, ci, -delta, _n(a, b, unit), f"{what} > -{delta:g} (non-inferiority, Welch {CONFIDENCE:.0%} CI)")


def equivalence(a, b, delta, unit="seeds", what="mean(A) - mean(B)") -> Verdict:
    """A is about B: the interval lies inside (-delta, delta) (TOST at 5%)."""
    d, ci = welch(a, b)
    return within(d, ci, 0.0, delta, _n(a, b, unit), f"|{what}| < {delta:g} (TOST, Welch {CONFIDENCE:.0%} CI)")


def monotone(xs, groups, increasing=True, margin=0.0, unit="seeds") -> Verdict:
    """The mean of groups[i] moves one way as xs grows.

    Supported: the last group exceeds the first (Welch interval above margin)
    and no adjacent pair shows a significant reversal (an interval wholly on
    the wrong side of -margin). Contradicted: a significant reversal, or the
    last group significantly not above the first. Effect: last - first, signed
    so that positive means the claimed direction."""
    sign = 1.0 if increasing else -1.0
    g = [sign * np.asarray(v, float) for v in groups]
    d, ci = welch(g[-1], g[0])
    reversals = []
    for (x0, a), (x1, b) in zip(zip(xs, g), zip(xs[1:], g[1:])):
        _, (lo, hi) = welch(b, a)
        if hi < -margin:
            reversals.append(f"{x0}->{x1}")
    lo, hi = ci
    if math.isnan(lo):
        v = INCONCLUSIVE
    elif reversals or hi < margin:
        v = CONTRADICTED
    elif lo > margin:
        v = SUPPORTED
    else:
        v = INCONCLUSIVE
    means = ", ".join(f"{x}: {sign * m.mean():.4g}" for x, m in zip(xs, g))
    return Verdict(v, f"{'increasing' if increasing else 'decreasing'} in x: last vs first > {margin:g} and no "
                      f"adjacent pair reversed (Welch {CONFIDENCE:.0%} CIs)", d, ci,
                   f"{len(groups)} groups x {min(len(x) for x in groups)} {unit}", margin,
                   detail=f"means {means}" + (f"; reversed: {', '.join(reversals)}" if reversals else ""))


# -- helpers added for F8-F12 ----------------------------------------------------
def all_of(verdicts, effect_from=0, detail="") -> Verdict:
    """Conjunction of sub-rules: supported if every part is, contradicted if any
    part is, inconclusive otherwise. Effect, CI and n come from verdicts[effect_from];
    the rule and detail list every part."""
    vs = list(verdicts)
    states = [v.verdict for v in vs]
    v = SUPPORTED if all(s == SUPPORTED for s in states) else \
        CONTRADICTED if CONTRADICTED in states else INCONCLUSIVE
    head = vs[effect_from]
    parts = "; ".join(f"[{i + 1}] {x.verdict}: {x.effect:.4g} [{x.ci[0]:.4g}, {x.ci[1]:.4g}] vs {x.rule}"
                      + (f" ({x.detail})" if x.detail else "") for i, x in enumerate(vs))
    return Verdict(v, " AND ".join(f"[{i + 1}] {x.rule}" for i, x in enumerate(vs)), head.effect, head.ci,
                   head.n, head.margin, detail=(detail + "; " if detail else "") + parts)


def rank_correlation(xs_by_cell, ys_by_cell, threshold=0.0, n_resamples=2000, seed=0, what="") -> Verdict:
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
        ci = (math.nan, math.nan)
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
        a = (1 - CONFIDENCE) / 2
        ci = (float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a)))
    return greater(est, ci, threshold, f"{len(xs)} cells x {n_min} seeds",
                   f"Spearman rho{' of ' + what if what else ''} > {threshold:g} (bootstrap {CONFIDENCE:.0%} CI "
                   f"over seeds within cells)")


def bootstrap_rows(statistic, *matrices, confidence=CONFIDENCE, n_resamples=2000, seed=0):
    """Percentile bootstrap over rows (e.g. trials) of one or more arrays that
    share their rows (resampled together, i.e. paired). statistic(*arrays) ->
    float. Returns (estimate, (lo, hi)); used where a statistic needs whole
    rows (a fit across batch sizes), which `bootstrap_ci` would split."""
    arrays = [np.asarray(m, float) for m in matrices]
    n = len(arrays[0])
    est = float(statistic(*arrays))
    if n < 2:
        return est, (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    vals = np.array([statistic(*(a[idx] for a in arrays)) for idx in rng.integers(0, n, (n_resamples, n))], float)
    alpha = (1 - confidence) / 2
    return est, (float(np.quantile(vals, alpha)), float(np.quantile(vals, 1 - alpha)))


def slope(x, y):
    """Least-squares slope of y against x."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xc = x - x.mean()
    return float((xc * (y - y.mean())).sum() / (xc * xc).sum())
