"""The gradient sampler of F4-F7 (harness/sampler.py): the fast stacked
sampler agrees with the naive nn.Module + autograd + optim.SGD loop
(harness/reference.py), trials are independent of how they are grouped, and
the per-trial statistics (harness/tails.py) behave on known distributions.
No MNIST needed: random inputs in [0, 1)."""
import math

import numpy as np
import pytest
import torch

from harness import gradients, model, reference, sampler, scales, tails, verdicts
from harness.cache import spec_key
from harness.trainer import RunConfig, Phase


def _setup(n, trials=2, dtype=torch.float64, seed=0):
    p = [q.to(dtype) for q in model.init_params(seed)]
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(trials, n, 784, generator=g, dtype=dtype)
    y = torch.randint(0, 10, (trials, n), generator=g)
    return p, x, y


@pytest.mark.parametrize("B_set", [(1, 3, 5, 7, 16, 128), (2, 6, 64)])
def test_fast_sampler_matches_naive_loop_float64(B_set):
    p, x, y = _setup(128)
    fast = sampler.sample_trials(p, x, y, B_set, lr=0.05)  # a larger lr makes the trajectory matter
    for t in range(2):
        ref = reference.naive_trial(p, x[t], y[t], B_set, lr=0.05)
        for B in B_set:
            for r in gradients.READINGS:
                a, b = fast[B][r][t], ref[B][r]
                assert torch.allclose(a, b, rtol=1e-10, atol=1e-13), (B, r, (a - b).abs().max().item())


def test_fast_sampler_full_trial_float32_close_to_float64():
    """The float32 path computes what the float64 path computes, over a whole
    1024-sample trial. At lr 0 the weights stay put, so the comparison sees
    rounding only: with lr > 0, float32 rounding can tip a ReLU at its kink and
    the two trajectories part, by an amount that depends on the CPU (the naive
    autograd loop itself parts from float64 by 36% at B = 1 on an Intel Xeon).
    The trajectory logic is checked in float64 above, at 1e-10."""
    p, x, y = _setup(1024, trials=1)
    B_set = (1, 7, 1024)  # 7: oneDNN's prepacked products (float32 only)
    f64 = sampler.sample_trials(p, x, y, B_set, lr=0.0)
    f32 = sampler.sample_trials([q.float() for q in p], x.float(), y, B_set, lr=0.0)
    for B in B_set:
        for r in ("sum", "mean-drop"):
            a, b = f32[B][r].double(), f64[B][r]
            assert (a - b).norm() / b.norm() < 1e-5, (B, r)


def test_packed_float32_path_matches_the_plain_float32_path():
    """oneDNN's prepacked products (small float32 batches, trials one at a time)
    against the same algorithm through bmm, both float32, two trials together."""
    p, x, y = _setup(300, trials=2, dtype=torch.float32)
    B_set = (1, 2, 5, 16, 64)
    a = sampler.sample_trials(p, x, y, B_set, packed=True)
    b = sampler.sample_trials(p, x, y, B_set, packed=False)
    for B in B_set:
        for r in gradients.READINGS:
            assert (a[B][r] - b[B][r]).norm() / b[B][r].norm() < 1e-5, (B, r)


def test_readings_relations():
    p, x, y = _setup(64)
    out = sampler.sample_trials(p, x, y, (1, 5, 64))
    # B divides n: mean = sum / steps, drop readings = the others
    assert torch.allclose(out[1]["mean"], out[1]["sum"] / 64)
    assert torch.equal(out[64]["sum"], out[64]["mean"]) or torch.allclose(out[64]["sum"], out[64]["mean"])
    assert torch.equal(out[1]["sum-drop"], out[1]["sum"])
    # B = 5 leaves 4 samples: the short batch changes sum, drop excludes it
    assert not torch.allclose(out[5]["sum"], out[5]["sum-drop"])


def test_grouping_does_not_change_a_trial():
    p, x, y = _setup(96, trials=3)
    together = sampler.sample_trials(p, x, y, (1, 8, 96))
    alone = sampler.sample_trials(p, x[2:3], y[2:3], (1, 8, 96))
    for B in (1, 8, 96):
        assert torch.allclose(together[B]["sum"][2], alone[B]["sum"][0], rtol=1e-10, atol=1e-13)


def test_draws_are_fixed_distinct_and_without_replacement():
    a, b = sampler.draw(0, 8000), sampler.draw(1, 8000)
    assert torch.equal(a, sampler.draw(0, 8000))
    assert len(set(a.tolist())) == 1024 and not torch.equal(a, b)


def test_tail_stats_known_distributions():
    g = torch.Generator().manual_seed(0)
    normal = torch.randn(10240, generator=g, dtype=torch.float64)
    heavy = torch.distributions.StudentT(2.5).sample((10240,)).double()
    z, ex_n, ku_n, hi_n = tails.tail_stats(torch.cat([normal, torch.zeros(40, dtype=torch.float64)]))
    _, ex_h, ku_h, hi_h = tails.tail_stats(heavy)
    assert z == 40
    assert ex_n < 1e-3 < ex_h
    assert abs(ku_n) < 0.3 < ku_h
    assert hi_h < hi_n and 1.5 < hi_h < 4.0
    assert tails.abs_exceed(normal, 3.0) == pytest.approx(0.0027, abs=0.002)
    h = tails.log_hist(normal, 1.0)
    assert h.sum().item() == 10240 and len(h) == len(tails.HIST_EDGES) + 1


def test_signed_hist_counts_every_value_zeros_included():
    g = torch.Generator().manual_seed(0)
    v = torch.cat([torch.randn(10000, generator=g, dtype=torch.float64), torch.zeros(240, dtype=torch.float64),
                   torch.tensor([1e6, -1e6], dtype=torch.float64)])
    h = tails.signed_hist(v, 1.0)
    assert len(h) == len(tails.SIGNED_EDGES) + 1 and h.sum().item() == len(v)
    assert h[0].item() == 1 and h[-1].item() == 1  # asinh(1e6) ~ 14.5 lies beyond the last edge (8)
    zero_bin = torch.bucketize(torch.tensor(0.0, dtype=torch.float64), torch.tensor(tails.SIGNED_EDGES)).item()
    assert h[zero_bin].item() >= 240
    neg, pos = h[:zero_bin].sum().item(), h[zero_bin + 1:].sum().item()
    assert abs(neg - pos) < 0.05 * len(v)  # a symmetric distribution fills both sides alike


def test_gather_sums_signed_histograms_over_chunks():
    nb, nbin = 2, len(tails.SIGNED_EDGES) + 1

    def rec(first, fill):
        r = {"trials": [first], "batch_sizes": [1, 2], "start_epoch": 1, "pool": 100, "s_ref": 0.5,
             "sampler_s": 1.0, "zeros": torch.zeros(1, nb, dtype=torch.int64),
             "hist_edges": list(tails.HIST_EDGES), "signed_edges": list(tails.SIGNED_EDGES)}
        for k in ("norms", "tails", "abs_exceed"):
            r[k] = {"sum": torch.zeros(1, nb, dtype=torch.float64)}
        r["hist"] = {"sum": torch.full((nb, len(tails.HIST_EDGES) + 1), fill, dtype=torch.int64)}
        r["hist_signed"] = {"sum": torch.full((nb, nbin), fill, dtype=torch.int64)}
        return r
    got = gradients.gather([rec(1, 2), rec(0, 3)])
    assert got["trials"] == [0, 1]
    assert got["hist_signed"]["sum"].shape == (nb, nbin) and (got["hist_signed"]["sum"] == 5).all()
    assert isinstance(got["signed_edges"], np.ndarray) and tuple(got["signed_edges"]) == tails.SIGNED_EDGES


def test_specs_cover_every_trial_once_and_keys_differ():
    start = RunConfig(phases=(Phase(6, 1024, 0.01),), seed=0, snapshots=(1, 6))
    sp = gradients.specs(scales.QUICK, start)
    for regime in ("early", "late"):
        got = sorted(t for s in sp if s.regime == regime for t in range(s.first, s.first + s.count))
        assert got == list(range(scales.QUICK.grad_trials))
    keys = {spec_key(s, "cpu") for s in sp}
    assert len(keys) == len(sp)
    assert all(s.kind == "grad" and s.cost() > 0 and "trials" in s.describe() for s in sp)


def test_bootstrap_rows_recovers_a_slope():
    rng = np.random.default_rng(0)
    bs = np.log(np.asarray(gradients.BATCH_SIZES, float))
    rows = np.exp(0.5 * bs + rng.normal(0, 0.1, (200, len(bs))))
    est, (lo, hi) = verdicts.bootstrap_rows(lambda a: verdicts.slope(bs, np.log(a.mean(0))), rows)
    assert lo < 0.5 < hi and hi - lo < 0.02
    assert gradients.fit_exponent(gradients.BATCH_SIZES, np.exp(0.5 * bs)) == pytest.approx(0.5)
    assert math.isnan(verdicts.bootstrap_rows(lambda a: a.mean(), rows[:1])[1][0])
