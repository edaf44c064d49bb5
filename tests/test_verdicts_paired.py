"""The paired rules (harness/verdicts.py): intervals and p-values against
scipy.stats.ttest_rel, the three verdicts, synthetic nulls (never supported)
and the seed count from a precision target."""
import math

import numpy as np
import pytest
from scipy import stats

from harness import verdicts as V

rng = np.random.default_rng(13)
SEED_EFFECT = rng.normal(0.0, 2.0, size=5)  # what a seed's init and shuffle order add to both arms


def pair(shift, noise=0.1, base=95.0):
    """Two arms sharing each seed's effect: a = b + shift + small noise."""
    b = base + SEED_EFFECT
    return list(b + shift + rng.normal(0.0, noise, size=len(b))), list(b)


@pytest.mark.parametrize("n", [2, 3, 5, 12])
def test_paired_interval_and_p_values_are_scipy_ttest_rel(n):
    a, b = rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n)
    d, ci = V.paired_diff(a, b)
    ref = stats.ttest_rel(a, b).confidence_interval(V.CONFIDENCE)
    assert d == pytest.approx(np.mean(a - b))
    assert ci == pytest.approx((ref.low, ref.high))
    for x in (-1.0, 0.0, 0.7):  # "effect < x" is ttest_rel(a, b + x, less)
        assert ci.p("below", x) == pytest.approx(stats.ttest_rel(a, b + x, alternative="less").pvalue)
        assert ci.p("above", x) == pytest.approx(stats.ttest_rel(a, b + x, alternative="greater").pvalue)


def test_pairing_removes_the_shared_seed_effect():
    a, b = pair(0.5)
    paired, welch = V.paired_superiority(a, b), V.superiority(a, b)
    assert paired.supported, paired       # 0.5 over a per-seed noise of 0.1
    assert not welch.supported, welch     # lost in the seed-to-seed SD of 2
    assert "paired t" in paired.rule and "5 paired seeds" == paired.n


@pytest.mark.parametrize("shift, expected", [(0.5, "supported"), (-0.5, "contradicted"), (0.0, "inconclusive")])
def test_paired_superiority(shift, expected):
    v = V.paired_superiority(*pair(shift))
    assert v.verdict == expected, v
    assert v.p_contra < 0.05 if expected == "contradicted" else v.p_contra > 0.05


@pytest.mark.parametrize("shift, expected", [(0.0, "supported"), (-1.0, "contradicted"), (-0.5, "inconclusive")])
def test_paired_noninferiority(shift, expected):
    v = V.paired_noninferiority(*pair(shift), delta=0.5)
    assert v.verdict == expected, v


@pytest.mark.parametrize("shift, expected", [(0.0, "supported"), (1.0, "contradicted"), (-1.0, "contradicted"),
                                             (0.5, "inconclusive")])
def test_paired_equivalence(shift, expected):
    assert V.paired_equivalence(*pair(shift), delta=0.5).verdict == expected


def test_paired_monotone_matches_its_pairwise_rule():
    b = 95.0 + SEED_EFFECT
    groups = [b + 1.0 + rng.normal(0, 0.1, 5), b + 0.5 + rng.normal(0, 0.1, 5), b]
    v = V.monotone([64, 256, 1024], groups, increasing=False, paired=True)
    assert v.supported and "paired t" in v.rule, v
    assert v.ci == pytest.approx(tuple(V.paired_diff(-groups[2], -groups[0])[1]))
    assert not V.monotone([64, 256, 1024], groups, increasing=False).supported  # Welch drowns in the seed SD


def test_one_pair_is_inconclusive_and_unequal_lengths_refused():
    assert math.isnan(V.paired_superiority([99.0], [90.0]).ci[0])
    with pytest.raises(ValueError, match="one value per seed"):
        V.paired_diff([1.0, 2.0], [1.0])


# -- synthetic nulls: no rule may call them supported ----------------------------
NULL_DRAWS = 200


def null_pairs(n, sd, shift=0.0, seed=0):
    g = np.random.default_rng(seed)
    for _ in range(NULL_DRAWS):
        b = g.normal(95.0, 2.0, n)
        yield list(b + shift + g.normal(0.0, sd, n)), list(b)


@pytest.mark.parametrize("n", [3, 5])
def test_superiority_null_is_supported_at_most_at_its_level(n):
    """No true difference: supported in about 5% of draws (one side of a 90%
    interval), never more than chance allows."""
    hits = sum(V.paired_superiority(a, b).supported for a, b in null_pairs(n, 0.5))
    assert hits <= 0.05 * NULL_DRAWS + 3 * math.sqrt(0.05 * 0.95 * NULL_DRAWS)


def test_noninferiority_null_at_the_margin_is_supported_at_most_at_its_level():
    hits = sum(V.paired_noninferiority(a, b, 0.5).supported for a, b in null_pairs(3, 0.3, shift=-0.5))
    assert hits <= 0.05 * NULL_DRAWS + 3 * math.sqrt(0.05 * 0.95 * NULL_DRAWS)


def test_exact_nulls_are_never_supported():
    """Arms identical seed by seed (a harness that ignored what the arms vary):
    a difference of exactly 0 is not above 0, and 1 point short is not within 0.5."""
    same = [94.1, 94.3, 94.2]
    assert V.paired_superiority(same, same).verdict == "inconclusive"
    assert V.monotone([1, 2, 3], [same, same, same], paired=True).verdict == "inconclusive"
    assert V.paired_noninferiority([x - 1.0 for x in same], same, 0.5).verdict == "contradicted"


# -- seeds from a precision target ------------------------------------------------
def test_seeds_for_precision_meets_the_target_and_no_fewer_would():
    sd, hw = 0.3, 0.25
    n = V.seeds_for_precision(sd, hw)
    t = stats.t.ppf(0.95, [n - 2, n - 1])
    assert t[1] * sd / math.sqrt(n) <= hw < t[0] * sd / math.sqrt(n - 1)


def test_seeds_for_precision_edges():
    assert V.seeds_for_precision(0.0, 0.1) == 2
    assert V.seeds_for_precision(1.0, 0.25) > V.seeds_for_precision(0.5, 0.25)
    with pytest.raises(ValueError):
        V.seeds_for_precision(1.0, 0.0)
