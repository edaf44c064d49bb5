"""The noise scale's estimator (harness/noise_scale.py) on synthetic gradients
whose |G|^2 and tr(Sigma) are known exactly, and its inputs from the sampler
against per-example gradients taken one by one."""
import numpy as np
import pytest
import torch

from harness import engine, model, noise_scale, sampler


def population(n=400, d=30, seed=0, mean=0.3):
    """n per-example 'gradients' in d dimensions: a mean direction plus noise.
    Returns (g (n, d), |G|^2, tr(Sigma)) with Sigma the population covariance."""
    rng = np.random.default_rng(seed)
    g = rng.normal(mean, 1.0, (n, d)) * np.linspace(0.5, 2.0, d)
    G = g.mean(0)
    return g, float(G @ G), float(((g - G) ** 2).sum(1).mean())


def mean_sq(g, b, draws, rng, replace):
    """Mean over draws of |batch-mean gradient|^2 for batches of b examples."""
    if replace:
        idx = rng.integers(0, len(g), (draws, b))
    else:  # the first b of a random permutation per draw
        idx = np.argsort(rng.random((draws, len(g))), axis=1)[:, :b]
    return float((g[idx].mean(1) ** 2).sum(1).mean())


def test_the_formulas_invert_the_identity_exactly():
    g2, tr = 0.7, 55.0
    for pool in (None, 8000):
        m = {b: g2 + tr * noise_scale.population_factor(b, pool) for b in (1, 16, 1024)}
        for small, big in ((1, 1024), (16, 1024), (1, 16)):
            est = noise_scale.two_batch(m[small], m[big], small, big, pool)
            assert est == pytest.approx((g2, tr), rel=1e-9)
            assert noise_scale.b_simple(m[small], m[big], small, big, pool) == pytest.approx(tr / g2, rel=1e-9)


@pytest.mark.parametrize("replace", [True, False])
def test_two_batch_estimator_recovers_known_noise_scale(replace):
    g, g2, tr = population()
    rng = np.random.default_rng(1)
    pool = None if replace else len(g)
    m1, m64 = mean_sq(g, 1, 20000, rng, replace), mean_sq(g, 64, 20000, rng, replace)
    est_g2, est_tr = noise_scale.two_batch(m1, m64, 1, 64, pool)
    assert est_tr == pytest.approx(tr, rel=0.03)
    assert est_g2 == pytest.approx(g2, rel=0.05)
    assert noise_scale.b_simple(m1, m64, 1, 64, pool) == pytest.approx(tr / g2, rel=0.06)


def test_ignoring_the_finite_pool_biases_the_estimate():
    """Batches without replacement from a pool of 400, B_simple near 100: the
    1/B formula overstates the big batch's noise, so it reads part of the
    signal as noise (a bias of about B_simple / N)."""
    g, g2, tr = population(mean=0.06)
    assert 50 < tr / g2 < 200
    rng = np.random.default_rng(2)
    m1, m128 = mean_sq(g, 1, 20000, rng, False), mean_sq(g, 128, 20000, rng, False)
    naive = noise_scale.b_simple(m1, m128, 1, 128)
    right = noise_scale.b_simple(m1, m128, 1, 128, len(g))
    assert right == pytest.approx(tr / g2, rel=0.06)
    assert abs(naive / (tr / g2) - 1) > 0.2


def test_from_trials_and_prediction_follow_the_identity():
    g2, tr, pool = 0.5, 80.0, 8000
    bs = (1, 8, 64, 1024)
    rng = np.random.default_rng(3)
    exact = np.array([g2 + tr * noise_scale.population_factor(b, pool) for b in bs])
    sq = exact * (1 + 0.01 * rng.standard_normal((32, len(bs))))
    est, ci = noise_scale.from_trials_ci(sq, bs, pool)
    assert est == pytest.approx(tr / g2, rel=0.1) and ci[0] < est < ci[1]
    assert noise_scale.predicted_sq(sq, bs, pool, 64) == pytest.approx(exact[2], rel=0.05)


def test_sampler_inputs_match_per_example_gradients():
    """start_gradients' sq_all at B = 1 and 4 against batch-mean gradients
    of every parameter taken one batch at a time by the engine."""
    g = torch.Generator().manual_seed(0)
    params = [p.double() for p in model.init_params(0)]
    xs = torch.randn(1, 8, 784, dtype=torch.float64, generator=g)
    ys = torch.randint(0, 10, (1, 8), generator=g)
    out = sampler.start_gradients(params, xs, ys, (1, 4))
    for b in (1, 4):
        norms = []
        for i in range(0, 8, b):
            gs = engine.grads(params, xs[0, i:i + b], ys[0, i:i + b])
            norms.append(sum(float((x ** 2).sum()) for x in gs))
        assert float(out[b]["sq_all"][0]) == pytest.approx(np.mean(norms), rel=1e-8)
