"""The rules of F4-F7's primary readings (claims/test_f4..f7) on synthetic trial
matrices (trials x the 15 batch sizes), no sampler and no data: each rule
passes on a world built to satisfy the post's claim and fails on a null that
lacks the claimed effect (or has it too small). So every primary rule can
fail, and a rule that fails on the real data can also pass.

The worlds draw norms as mean(B) x (1 + cv(B) z), z standard normal, 400
trials, a fixed seed; the thresholds are the modules' own constants."""
import math

import numpy as np
import pytest

from claims import test_f4_gradient_norm as f4
from claims import test_f5_norm_variation as f5
from claims import test_f6_norm_distribution as f6
from claims import test_f7_gradient_tails as f7
from harness import gradients

BS = np.asarray(gradients.BATCH_SIZES, float)
TRIALS = 400
# Interdecile range of a normal: 2 x 1.2816 standard deviations.
IDR_PER_SD = 2 * 1.2816


def world(exponent=0.5, cv_small=0.02, cv_large=0.02, seed=0):
    """Norms with mean B^exponent and a CV moving log-linearly in B from cv_small
    (BS1) to cv_large (BS1024)."""
    rng = np.random.default_rng(seed)
    cv = cv_small * (cv_large / cv_small) ** (np.log(BS) / np.log(1024))
    return BS ** exponent * (1 + cv * rng.standard_normal((TRIALS, len(BS))))


# -- F4: increases, sqrt ---------------------------------------------------------------
def test_f4_rules_pass_a_sqrt_world():
    n = world(0.5)
    assert f4.increases_verdict(n).supported
    v = f4.sqrt_verdict(n)
    assert v.supported and v.effect == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("exponent, verdict", [(0.0, "contradicted"), (0.25, "contradicted"),
                                               (-0.7, "contradicted"), (1.0, "contradicted")])
def test_f4_sqrt_rule_fails_other_exponents(exponent, verdict):
    """Flat (the null), the quick 'mean' reading's ~0.25, the 'sum' reading's
    -0.7 and a linear law: all outside 0.5 +- 0.1."""
    assert f4.sqrt_verdict(world(exponent)).verdict == verdict


def test_f4_increases_rule_fails_a_flat_null_and_a_falling_world():
    assert not f4.increases_verdict(world(0.0)).supported
    assert f4.increases_verdict(world(-0.7)).verdict == "contradicted"


# -- F5: trend and size of the CV --------------------------------------------------------
def test_f5_rules_pass_a_world_whose_cv_triples():
    n = world(0.5, 0.02, 0.06)
    assert f5.cv_trend_verdict(n).supported
    v = f5.cv_ratio_verdict(n)
    assert v.supported and v.effect == pytest.approx(3 ** (9 / 10), rel=0.2)  # BS2 -> BS1024 is 9/10 of the range


def test_f5_rules_fail_a_constant_cv_null():
    n = world(0.5, 0.03, 0.03)
    assert not f5.cv_trend_verdict(n).supported
    assert f5.cv_ratio_verdict(n).verdict == "contradicted"


def test_f5_size_rule_fails_a_growth_below_twofold():
    """The direction holds (CV x1.4), its size does not: trend supported, size contradicted."""
    n = world(0.5, 0.02, 0.028)
    assert f5.cv_trend_verdict(n).supported
    assert f5.cv_ratio_verdict(n).verdict == "contradicted"


# -- F6: trend, contrast and size of the normalised spread --------------------------------------
def test_f6_rules_pass_a_world_of_very_large_and_very_small_updates():
    n = world(0.5, 0.02, 0.3)  # spread at BS1024 ~ 2.56 x 0.3 = 0.77
    assert f6.spread_trend_verdict(n).supported
    assert f6.spread_ratio_verdict(n).supported
    v = f6.wide_verdict(n)
    assert v.supported and v.effect == pytest.approx(IDR_PER_SD * 0.3, rel=0.15)


def test_f6_rules_fail_a_constant_spread_null():
    n = world(0.5, 0.03, 0.03)
    assert not f6.spread_trend_verdict(n).supported
    assert f6.spread_ratio_verdict(n).verdict == "contradicted"
    assert f6.wide_verdict(n).verdict == "contradicted"


def test_f6_size_rule_fails_a_spread_that_grows_but_stays_narrow():
    """Spread x4 from BS2 to BS1024, but only ~0.2 of the mean at BS1024: the
    direction and the contrast hold, "very large and very small" does not."""
    n = world(0.5, 0.015, 0.08)
    assert f6.spread_trend_verdict(n).supported and f6.spread_ratio_verdict(n).supported
    assert f6.wide_verdict(n).verdict == "contradicted"


# -- F7: count beyond a fixed value, centres alike ------------------------------------------
def _fractions(slope, seed=0):
    """Per-trial fractions beyond a fixed value, mean 0.01 + slope log2(B)."""
    rng = np.random.default_rng(seed)
    return np.clip(0.01 + slope * np.log2(BS) + 0.002 * rng.standard_normal((TRIALS, len(BS))), 0, 1)


def test_f7_count_rule_passes_a_rising_count_and_fails_flat_and_falling_ones():
    assert f7.tail_trend(_fractions(0.002), +1, "fraction", "")[0].supported
    assert not f7.tail_trend(_fractions(0.0), +1, "fraction", "")[0].supported
    assert f7.tail_trend(_fractions(-0.0005), +1, "fraction", "")[0].verdict == "contradicted"


def _widths(exponent, seed=0):
    """Per-trial centre widths, mean B^exponent, 5% scatter."""
    rng = np.random.default_rng(seed)
    return BS ** exponent * (1 + 0.05 * rng.standard_normal((TRIALS, len(BS))))


def test_f7_centre_rule_passes_equal_centres_and_fails_rescaled_ones():
    """Equal widths: supported. Widths ~ sqrt(B) (a distribution that rescales
    with the norm, the null of "only the tail grows"): 22.6x from BS2 to
    BS1024, contradicted; so is a narrowing one (the 'sum' reading's)."""
    assert f7.centres_alike_verdict(_widths(0.0)).supported
    v = f7.centres_alike_verdict(_widths(0.5))
    assert v.verdict == "contradicted" and math.exp(v.effect) == pytest.approx(512 ** 0.5, rel=0.05)
    assert f7.centres_alike_verdict(_widths(-0.7)).verdict == "contradicted"


def test_f7_count_rows_meet_within_half_a_decade_only():
    """The fidelity rows: 3e4 or 3e5 counts per 1000 trials meet the post's 1e5
    (within half a decade), 4e5 does not, and none does not."""
    per_trial = lambda c: np.full(TRIALS, c / f7.POST_TRIALS)  # noqa: E731
    assert f7.count_row(per_trial(3e5), 1e5)["met"] and f7.count_row(per_trial(3.2e4), 1e5)["met"]
    assert not f7.count_row(per_trial(4e5), 1e5)["met"]
    assert not f7.count_row(np.zeros(TRIALS), 1e2)["met"]
