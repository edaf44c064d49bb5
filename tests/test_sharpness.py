"""harness/sharpness.py against known Hessians: a quadratic whose eigenvalues
are set by hand, a small MLP's full Hessian from torch.autograd.functional,
and the cached spec on a tiny real run."""
import dataclasses

import pytest
import torch

from harness import engine, model, numerics, sharpness
from harness.cache import spec_key
from harness.trainer import Phase, RunConfig


def _symmetric(eigs, seed=0):
    """Q diag(eigs) Q^T for a random orthogonal Q (float64)."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(len(eigs), len(eigs), generator=g, dtype=torch.float64))
    return q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ q.T


def test_a_quadratic_gives_its_top_eigenvalue_not_its_largest_magnitude():
    """Lanczos' top Ritz value is the largest eigenvalue, even where a negative
    one is larger in magnitude (a saddle)."""
    eigs = [12.0, 9.5, 9.0, 3.0, 1.0, 0.5, 0.0, -2.0, -40.0] + [0.1] * 41
    H = _symmetric(eigs)
    out = sharpness.top_eigenvalue(lambda v: H @ v, len(eigs), steps=30, dtype=torch.float64)
    assert out["lambda"] == pytest.approx(12.0, rel=1e-8)
    assert out["converged"] and out["residual"] < 1e-6
    assert out["history"][-1] == out["lambda"]
    assert out["products"] == 11  # 10 distinct eigenvalues: the Krylov space is whole after 10, plus the check


def test_the_residual_check_fails_an_estimate_stopped_too_early():
    eigs = [10.0, 9.9, 9.8, 9.7] + [float(x) for x in torch.linspace(-9, 9, 96)]
    H = _symmetric(eigs, seed=1)
    early = sharpness.top_eigenvalue(lambda v: H @ v, len(eigs), steps=3, dtype=torch.float64)
    assert not early["converged"] and early["lambda"] < 10.0  # Ritz values approach from below


def test_autograd_hvp_of_a_quadratic_loss_is_its_matrix_times_v():
    H = _symmetric([5.0, 2.0, -1.0, 0.5])
    loss = lambda ps, x, y: 0.5 * ps[0] @ H @ ps[0]  # noqa: E731
    hvp = sharpness.loss_hvp([torch.randn(4, dtype=torch.float64)], None, None, loss=loss)
    v = torch.randn(4, dtype=torch.float64)
    assert torch.allclose(hvp(v), H @ v)


def _small_mlp(seed=0, widths=(6, 5, 4, 3), n=24):
    g = torch.Generator().manual_seed(seed)
    params = [p.double() for p in model.init_params(seed, widths=widths)]
    params = [p + 0.1 * torch.randn(p.shape, generator=g, dtype=torch.float64) for p in params]  # non-zero biases
    x = torch.randn(n, widths[0], generator=g, dtype=torch.float64)
    y = torch.randint(0, widths[-1], (n,), generator=g)
    return params, x, y


def _full_hessian(params, x, y):
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]

    def loss_of_flat(flat):
        ps = [c.reshape(s) for c, s in zip(torch.split(flat, sizes), shapes)]
        return sharpness.mlp_loss(ps, x, y)
    return torch.autograd.functional.hessian(loss_of_flat, torch.cat([p.reshape(-1) for p in params]))


def test_the_mlp_hvp_and_top_eigenvalue_match_the_full_hessian():
    params, x, y = _small_mlp()
    H = _full_hessian(params, x, y)
    hvp = sharpness.loss_hvp(params, x, y)
    v = torch.randn(len(H), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert torch.allclose(hvp(v), H @ v, atol=1e-10)
    out = sharpness.top_eigenvalue(hvp, len(H), steps=40, dtype=torch.float64)
    assert out["lambda"] == pytest.approx(float(torch.linalg.eigvalsh(H)[-1]), rel=1e-8)


def test_the_loss_is_the_engines_mean_cross_entropy():
    params, x, y = _small_mlp(seed=1)
    assert float(sharpness.mlp_loss(params, x, y)) == pytest.approx(engine.evaluate(params, x, y)[0], rel=1e-10)


TINY = RunConfig(phases=(Phase(2, 32, 0.05),), seed=3, train_subset=512, test_subset=512, train_eval_subset=512,
                 snapshots=(2,))


def test_the_spec_measures_its_runs_snapshot(fresh_ctx):
    spec = sharpness.SharpnessSpec(TINY, 2, points=128, steps=12)
    rec = fresh_ctx.records([spec])[0]
    params = fresh_ctx.results([TINY], need_tensors=True)[0]["tensors"]["epoch2"]
    x, y = sharpness.eval_points(TINY, fresh_ctx.data_root, fresh_ctx.cache_root, 128)
    direct = sharpness.top_eigenvalue(sharpness.loss_hvp(params, x, y), sum(p.numel() for p in params), 12)
    assert rec["lambda"] == pytest.approx(direct["lambda"], rel=1e-6) and rec["lambda"] > 0
    assert rec["points"] == 128 and rec["residual"] < 1e-2 and rec["diverged_at"] is None
    assert rec["loss"] == pytest.approx(float(sharpness.mlp_loss(params, x, y)), rel=1e-6)


def test_eval_points_are_fixed_and_lie_in_the_runs_training_subset(mnist_root, tmp_path):
    x, y = sharpness.eval_points(TINY, mnist_root, tmp_path, 100)
    x2, _ = sharpness.eval_points(dataclasses.replace(TINY, seed=9), mnist_root, tmp_path, 100)
    assert x.shape == (100, 784) and torch.equal(x, x2)  # the same points for every run of a scale
    full, _ = sharpness.eval_points(TINY, mnist_root, tmp_path, 10_000)  # more than the subset: all 512
    assert len(full) == 512 and all((full == row).all(1).any() for row in x[:10])


def test_a_spec_needs_its_snapshot_and_is_keyed_by_the_sharpness_numerics(monkeypatch):
    with pytest.raises(ValueError, match="keeps no parameters at epoch 1"):
        sharpness.SharpnessSpec(TINY, 1, points=128)
    spec = sharpness.SharpnessSpec(TINY, 2, points=128)
    before = spec_key(spec)
    assert spec_key(dataclasses.replace(spec, points=256)) != before
    monkeypatch.setitem(numerics.VERSIONS, "sharpness", (numerics.version("sharpness") + 1, "x"))
    assert spec_key(spec) != before
