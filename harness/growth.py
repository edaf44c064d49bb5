"""How a distance curve grows with the step count t: a + b log t (logarithmic,
"ultra-slow diffusion", Hoffer et al. 2017) against c t^alpha (a power law,
Kunin et al. 2021). Used by L5 (claims/test_l5_distance_log_growth.py).

Both models have two parameters and are fitted by least squares on the
distance d itself, the same response for both, so that their Gaussian
likelihoods compare: the log model in closed form, the power law by nonlinear
least squares started from its log-log line. With equal parameter counts the
difference of their AICs (and of their AICc: the small-sample corrections are
equal) is n log(RSS_power / RSS_log): positive favours the log curve.

The points: t > 0 only, at log-spaced times (the logged points nearest
N_POINTS geometric steps from the first to the last, repeats dropped), so that
each decade of t weighs alike; epochs are evenly spaced in t, and without this
the last decade alone would decide.
"""
import math

import numpy as np
from scipy import optimize

N_POINTS = 12


def log_spaced(t, n=N_POINTS) -> np.ndarray:
    """Indices of the points of t (> 0, increasing) nearest n log-spaced times."""
    t = np.asarray(t, float)
    targets = np.geomspace(t[0], t[-1], n)
    return np.unique([int(np.argmin(np.abs(np.log(t) - math.log(x)))) for x in targets])


def fit_log(t, d) -> tuple[tuple[float, float], float]:
    """(a, b) of d = a + b log t, and the residual sum of squares."""
    A = np.stack([np.ones_like(t), np.log(t)], 1)
    coef, *_ = np.linalg.lstsq(A, d, rcond=None)
    return (float(coef[0]), float(coef[1])), float(((d - A @ coef) ** 2).sum())


def fit_power(t, d) -> tuple[tuple[float, float], float]:
    """(c, alpha) of d = c t^alpha, and the residual sum of squares. t is
    divided by its last value inside the fit (c is reported for t itself)."""
    u = t / t[-1]
    alpha0, logc0 = np.polyfit(np.log(u), np.log(d), 1)
    (c, alpha), _ = optimize.curve_fit(lambda x, c, a: c * x ** a, u, d, p0=(math.exp(logc0), alpha0), maxfev=10000)
    rss = float(((d - c * u ** alpha) ** 2).sum())
    return (float(c * t[-1] ** -alpha), float(alpha)), rss


def delta_aic(n, rss_power, rss_log) -> float:
    """AIC(power) - AIC(log) for two two-parameter least-squares fits of the same n points."""
    tiny = 1e-300  # an exact fit has RSS 0: keep the log finite
    return float(n * (math.log(max(rss_power, tiny)) - math.log(max(rss_log, tiny))))


def compare(t, d, n=N_POINTS) -> dict:
    """Both fits on the log-spaced points of a curve d(t), t > 0."""
    t, d = np.asarray(t, float), np.asarray(d, float)
    keep = t > 0
    t, d = t[keep], d[keep]
    idx = log_spaced(t, n)
    t, d = t[idx], d[idx]
    (a, b), rss_log = fit_log(t, d)
    (c, alpha), rss_pow = fit_power(t, d)
    return {"delta_aic": delta_aic(len(t), rss_pow, rss_log), "n": len(t), "a": a, "b": b, "c": c,
            "alpha": alpha, "rss_log": rss_log, "rss_power": rss_pow, "t": t.tolist()}
