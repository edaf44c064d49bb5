"""Every primary reading of L1 and L2 can fail: each one's judging function,
fed what a broken harness (or a world without the claimed effect) would give,
must not call it supported; fed the claimed effect, it must. Plus the pieces
L1 reads steps and critical batch sizes with, on synthetic curves."""
import math

import numpy as np
import pytest

from claims import test_l1_critical_batch_size as l1
from claims import test_l2_scaling_rules as l2
from harness import noise_scale

rng = np.random.default_rng(1812)
BS = l1.BATCH_SIZES
SEEDS = (0, 1, 2)


def model_steps(s_min, b_crit, noise=0.02):
    """{seed: {bs: steps}} from S = S_min (1 + B_crit / B), with seed-to-seed noise in log steps."""
    return {s: {b: s_min * (1 + b_crit / b) * math.exp(rng.normal(0, noise)) for b in BS} for s in SEEDS}


def test_fit_recovers_the_critical_batch_size():
    steps = model_steps(150.0, 200.0, noise=0.0)[0]
    s_min, b_crit = l1.fit_critical(BS, [steps[b] for b in BS])
    assert s_min == pytest.approx(150.0, rel=1e-4) and b_crit == pytest.approx(200.0, rel=1e-4)


def test_steps_to_target_interpolates_in_log_loss():
    h = {"epoch": [0, 1, 2, 3], "step": [0, 100, 200, 300], "train_loss": [2.5, 0.4, 0.1, 0.025]}
    rec = {"history": h, "steps": 300}
    assert l1.steps_to_target(rec, 0.05) == pytest.approx(250.0)  # halfway in log between 0.1 and 0.025
    assert l1.evaluations_before(rec, 0.05) == 3
    assert l1.steps_to_target(rec, 0.01) is None                  # never reached: censored


def run(losses, steps_per_epoch=100, diverged=None):
    n = len(losses)
    return {"history": {"epoch": list(range(n)), "step": [steps_per_epoch * e for e in range(n)],
                        "train_loss": losses}, "steps": steps_per_epoch * (n - 1), "diverged_at": diverged}


def test_tuning_names_a_censored_run_that_stopped_too_early():
    fast = run([2.5, 0.2, 0.04])
    ahead = run([2.5, 0.1])          # stopped at step 100 below the best run's loss there (0.2)
    behind = run([2.5, 0.3])         # stopped at step 100 above it: slower
    diverged = run([2.5, float("nan")], diverged=1)
    assert l1.tune({64: {0.1: fast, 0.2: behind, 0.4: diverged}}, 0.05)[64][::3] == (0.1, "")
    best, _, _, why = l1.tune({64: {0.1: fast, 0.2: ahead}}, 0.05)[64]
    assert best == 0.1 and "undetermined" in why


def test_perfect_scaling_fails_when_the_batch_size_is_ignored():
    same = {s: {b: 500.0 * math.exp(rng.normal(0, 0.02)) for b in BS} for s in SEEDS}  # steps do not move with B
    assert l1.scaling_verdict("perfect at small batches", same).verdict == "contradicted"
    assert l1.scaling_verdict("perfect at small batches", model_steps(100.0, 200.0)).supported


def test_diminishing_returns_fail_when_scaling_stays_perfect():
    perfect = model_steps(1.0, 1e6)  # B_crit far beyond every batch size: slope -1 throughout
    assert l1.scaling_verdict("diminishing at large batches", perfect).verdict == "contradicted"
    assert l1.scaling_verdict("diminishing at large batches", model_steps(100.0, 100.0)).supported


def test_critical_batch_far_from_the_noise_scale_is_contradicted():
    assert l1.critical_verdict([150.0, 170.0, 160.0], 16000.0).verdict == "contradicted"
    assert l1.critical_verdict([150.0, 170.0, 160.0], 400.0).supported
    assert not l1.critical_verdict([150.0], 400.0).decided  # one seed: no interval


def synthetic_sq(g2, trace, trials=32, pool=8000, bs=(1, 64, 1024)):
    exact = np.array([g2 + trace * noise_scale.population_factor(b, pool) for b in bs])
    return exact * (1 + 0.02 * rng.standard_normal((trials, len(bs)))), bs, pool


def test_noise_scale_growth_fails_when_training_changes_nothing():
    early, bs, pool = synthetic_sq(5.0, 800.0)
    same = early * (1 + 0.02 * rng.standard_normal(early.shape))  # the late start point = the early one
    assert not l1.growth_verdict(same, early, bs, pool).supported
    late, _, _ = synthetic_sq(0.15, 320.0)  # B_simple 140 -> ~2000, as F4's start points
    assert l1.growth_verdict(late, early, bs, pool).supported


def test_scaling_rule_that_changes_nothing_is_contradicted():
    shift = rng.normal(0, 0.3, 3)  # what each seed adds to every arm
    base = list(94.3 + shift + rng.normal(0, 0.05, 3))
    constant = list(88.2 + shift + rng.normal(0, 0.05, 3))  # the lr not scaled: F1's BS1024 gap
    assert l2.gap_verdict(constant, base, "linear+warmup", 1024).verdict == "contradicted"
    kept = list(94.2 + shift + rng.normal(0, 0.05, 3))
    assert l2.gap_verdict(kept, base, "linear+warmup", 1024).supported
