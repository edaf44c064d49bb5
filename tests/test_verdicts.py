"""Every rule, on synthetic data chosen to give each of the three verdicts."""
import math

import numpy as np
import pytest

from harness import verdicts as V

rng = np.random.default_rng(0)
A_HIGH = [98.0, 98.1, 97.9, 98.05, 97.95]
A_LOW = [96.0, 96.1, 95.9, 96.05, 95.95]
A_NOISY = [97.0, 99.0, 95.0, 98.5, 96.0]


@pytest.mark.parametrize("a, b, expected", [
    (A_HIGH, A_LOW, "supported"),
    (A_LOW, A_HIGH, "contradicted"),
    (A_NOISY, A_HIGH, "inconclusive"),
])
def test_superiority(a, b, expected):
    v = V.superiority(a, b)
    assert v.verdict == expected, v
    assert v.effect == pytest.approx(np.mean(a) - np.mean(b))


@pytest.mark.parametrize("a, b, expected", [
    ([98.0, 98.1, 97.9, 98.05, 97.95], A_HIGH, "supported"),   # equal: above -delta
    (A_LOW, A_HIGH, "contradicted"),                           # 2 points worse, delta 0.5
    ([97.0, 98.6, 96.9, 98.4, 97.6], A_HIGH, "inconclusive"),   # straddles -0.5
])
def test_noninferiority(a, b, expected):
    assert V.noninferiority(a, b, delta=0.5).verdict == expected


@pytest.mark.parametrize("a, b, expected", [
    ([98.0, 98.1, 97.9, 98.05, 97.95], A_HIGH, "supported"),
    (A_LOW, A_HIGH, "contradicted"),
    (A_NOISY, A_HIGH, "inconclusive"),
])
def test_equivalence_tost(a, b, expected):
    assert V.equivalence(a, b, delta=0.5).verdict == expected


@pytest.mark.parametrize("groups, expected", [
    ([[1.0, 1.1, 0.9], [2.0, 2.1, 1.9], [3.0, 3.1, 2.9]], "supported"),
    ([[3.0, 3.1, 2.9], [2.0, 2.1, 1.9], [1.0, 1.1, 0.9]], "contradicted"),
    ([[1.0, 1.1, 0.9], [3.0, 3.1, 2.9], [2.0, 2.1, 1.9]], "contradicted"),   # a significant reversal
    ([[1.0, 3.0, 0.5], [2.0, 0.1, 3.0], [1.5, 2.9, 0.2]], "inconclusive"),
])
def test_monotone_increasing(groups, expected):
    v = V.monotone([1, 2, 3], groups, increasing=True)
    assert v.verdict == expected, v


def test_monotone_decreasing_signs_the_effect():
    v = V.monotone([64, 256, 1024], [[98, 98.1], [97, 97.2], [96, 95.9]], increasing=False)
    assert v.supported and v.effect == pytest.approx(98.05 - 95.95)


@pytest.mark.parametrize("ci, expected", [((0.4, 0.6), "supported"), ((0.9, 1.2), "contradicted"),
                                          ((0.3, 0.8), "inconclusive")])
def test_within(ci, expected):
    assert V.within(0.5, ci, target=0.5, margin=0.2).verdict == expected


@pytest.mark.parametrize("ci, expected", [((0.1, 0.3), "supported"), ((-0.3, -0.1), "contradicted"),
                                          ((-0.1, 0.2), "inconclusive")])
def test_greater_and_less_mirror(ci, expected):
    assert V.greater(0.2, ci).verdict == expected
    mirrored = {"supported": "contradicted", "contradicted": "supported"}.get(expected, expected)
    assert V.less(0.2, ci).verdict == mirrored


def test_one_seed_is_inconclusive_never_supported():
    v = V.superiority([99.0], [90.0])
    assert v.verdict == "inconclusive" and math.isnan(v.ci[0])


def test_bootstrap_ci_covers_the_mean():
    x = rng.normal(1.0, 1.0, size=400)
    est, (lo, hi) = V.bootstrap_ci(lambda s: np.mean(s), x)
    assert lo < est < hi and lo < 1.0 < hi and hi - lo < 0.3


# -- zero variance: identical seeds give an exact, decided interval ----------------------
@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")  # scipy, on the zero-variance side
def test_welch_with_zero_variance_gives_a_point_interval():
    """Runs that are identical across seeds (a deterministic quantity) have no
    spread: the difference is known exactly, so its interval is the point
    itself and it decides, with p-values 0 or 1, where a t interval would be
    undefined (0 / 0)."""
    d, ci = V.welch([1.0, 1.0, 1.0], [2.0, 2.0])
    assert d == -1.0 and ci == (-1.0, -1.0)
    # p(side, x): the p-value of H1 "effect below (above) x": 0 when certain, 1 when impossible
    assert ci.p("below", 0.0) == 0.0 and ci.p("above", 0.0) == 1.0
    assert ci.p("below", -0.5) == 0.0 and ci.p("below", -1.0) == 1.0 and ci.p("below", -1.5) == 1.0
    worse = V.superiority([1.0, 1.0], [2.0, 2.0])
    assert worse.verdict == "contradicted" and worse.p_contra == 0.0 and worse.decided
    better = V.superiority([2.0, 2.0], [1.0, 1.0])
    assert better.verdict == "supported" and better.p_contra == 1.0
    tie = V.superiority([3.0, 3.0], [3.0, 3.0])        # exactly on the margin: neither side
    assert tie.verdict == "inconclusive" and tie.ci == (0.0, 0.0)
    assert V.equivalence([3.0, 3.0], [3.0, 3.0], delta=0.5).verdict == "supported"
    # one side with spread: the ordinary Welch interval, not a point
    d, ci = V.welch([1.0, 1.2, 0.8], [2.0, 2.0, 2.0])
    assert d == pytest.approx(-1.0) and ci[0] < -1.0 < ci[1]


def test_mean_ci_is_the_t_interval():
    """mean_ci([1..5]): mean 3, sd sqrt(2.5), 90% t interval 3 +- t(0.95, 4) sqrt(2.5 / 5)
    = 3 +- 2.1318 x 0.7071 = [1.4926, 4.5074]; the one-sided p-value of
    "mean < 3" is 0.5 and of "mean > 1.4926" is 0.05 (the interval's edge)."""
    m, ci = V.mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert m == 3.0 and ci == pytest.approx((1.4926, 4.5074), abs=1e-4)
    assert ci.p("below", 3.0) == pytest.approx(0.5)
    assert ci.p("above", ci[0]) == pytest.approx(0.05, abs=1e-9)
    assert ci.p("below", ci[1]) == pytest.approx(0.05, abs=1e-9)
    m, ci = V.mean_ci([2.0, 2.0, 2.0])                  # zero variance: the point
    assert m == 2.0 and ci == (2.0, 2.0) and ci.p("below", 2.5) == 0.0 and ci.p("below", 1.5) == 1.0
    m, ci = V.mean_ci([7.0])                            # one value: no interval
    assert m == 7.0 and math.isnan(ci[0]) and ci.p("below", 0.0) is None


@pytest.mark.parametrize("values, verdict", [
    ([10.0, 12.0, 14.0], "supported"),       # interval above the band's upper edge
    ([-10.0, -12.0, -14.0], "contradicted"),  # below its lower edge: the opposite effect, by as much
    ([1.0, 3.0, 5.0], "inconclusive"),        # reaches into the band
    ([-5.0, 0.0, 5.0], "inconclusive"),
])
def test_greater_than_band(values, verdict):
    v = V.greater_than_band(*V.mean_ci(values), (-2.0, 2.0), "3 seeds")
    assert v.verdict == verdict and v.margin == 2.0
    # p_contra tests "effect < -2": small only when the interval lies below the lower edge
    assert (v.p_contra < 0.05) == (verdict == "contradicted")
