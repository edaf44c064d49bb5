"""The hand-derived forward/backward and fused updates against autograd."""
import pytest
import torch

from harness import engine, model

WIDTHS = (20, 16, 12, 10)  # small widths: the algebra is the same as 784-1024-1024-10


def batch(n, seed=0, widths=WIDTHS, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, widths[0], generator=g, dtype=dtype), torch.randint(0, 10, (n,), generator=g)


def params64(seed=0, init="glorot"):
    return [p.double() for p in model.init_params(seed, init, WIDTHS)]


def autograd_loss(ps, x, y, reduction="mean"):
    """The MLP's loss written the plain way, for autograd."""
    W1, b1, W2, b2, W3, b3 = ps
    z = torch.relu(torch.relu(x @ W1.T + b1) @ W2.T + b2) @ W3.T + b3
    return torch.nn.functional.cross_entropy(z, y, reduction=reduction)


def autograd_grads(params, x, y, reduction="mean"):
    ps = [p.clone().requires_grad_() for p in params]
    autograd_loss(ps, x, y, reduction).backward()
    return [p.grad for p in ps]


def train_both(ours_step, opt, ref, steps, bs, seed0):
    """Take the same steps with our update and with a torch optimizer on ref."""
    for step in range(steps):
        x, y = batch(bs, seed0 + step)
        ours_step(x, y)
        opt.zero_grad()
        autograd_loss(ref, x, y).backward()
        opt.step()


@pytest.mark.parametrize("bs", [1, 3, 64])
@pytest.mark.parametrize("init", ["glorot", "torch"])
def test_grads_match_autograd(bs, init):
    p = params64(1, init)
    x, y = batch(bs, 2)
    for red in ("mean", "sum"):
        for ours, ref in zip(engine.grads(p, x, y, red), autograd_grads(p, x, y, red)):
            torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bs", [1, 2, 8, 64])
def test_sgd_step_matches_autograd_and_optim_sgd(bs):
    p = params64(3)
    ref = [t.clone().requires_grad_() for t in p]
    train_both(lambda x, y: engine.sgd_step(p, x, y, 0.05), torch.optim.SGD(ref, lr=0.05), ref, 3, bs, 10)
    for a, b in zip(p, ref):
        torch.testing.assert_close(a, b.detach(), rtol=1e-10, atol=1e-12)


def test_adam_matches_torch_optim_adam():
    p = params64(4)
    ref = [t.clone().requires_grad_() for t in p]
    train_both(engine.Adam(p, lr=0.01).step, torch.optim.Adam(ref, lr=0.01), ref, 5, 16, 20)
    for a, b in zip(p, ref):
        torch.testing.assert_close(a, b.detach(), rtol=1e-9, atol=1e-11)


def test_evaluate_matches_direct_computation():
    p = params64(5)
    x, y = batch(1000, 6)
    loss, acc = engine.evaluate(p, x, y, chunk=300)
    z, _, _ = engine.forward(p, x)
    assert loss == pytest.approx(torch.nn.functional.cross_entropy(z, y).item(), rel=1e-12)
    assert acc == (z.argmax(1) == y).double().mean().item()


@pytest.mark.parametrize("bs", [1, 2, 4, 5, 64])
def test_float32_sgd_step_at_the_real_width(bs):
    """The suite trains in float32 at 784-1024-1024-10; batches of up to
    engine.SMALL_BATCH (4) rows take the rank-1 path (addr_), larger ones one
    addmm_. Three float32 steps of sgd_step against the same steps in float64
    through autograd and optim.SGD: each layer's displacement (what a step
    changes, ~1e-3 of the weights) agrees to 1e-4 relative. float32 rounds each
    product to ~1e-7 relative over sums of up to 1024 terms (sqrt(1024) x 6e-8
    = 2e-6), so 1e-4 leaves room for a ReLU at its kink yet fails a wrong term
    (a missing batch row or a doubled update is an O(1) error)."""
    assert engine.SMALL_BATCH == 4
    p64 = [p.double() for p in model.init_params(0)]
    p32 = [p.float() for p in p64]
    ref = [t.clone().requires_grad_() for t in p64]
    opt = torch.optim.SGD(ref, lr=0.05)
    for step in range(3):
        x, y = batch(bs, 100 + step, widths=model.WIDTHS)
        engine.sgd_step(p32, x.float(), y, 0.05)
        opt.zero_grad()
        autograd_loss(ref, x, y).backward()
        opt.step()
    for k, (a, b, b0) in enumerate(zip(p32, ref, p64)):
        moved = b.detach() - b0
        assert moved.norm() > 0, k
        assert (a.double() - b0 - moved).norm() / moved.norm() < 1e-4, (bs, k)


@pytest.mark.parametrize("bs, updates", [(16, ["aten::addmm_"] * 3), (3, ["aten::addr_"] * 9)])
def test_sgd_step_does_eight_matrix_products(bs, updates):
    """engine.sgd_step's products, counted with the profiler: forward 3 (addmm),
    input gradients 2 (dz @ W3 and dh2 @ W2: layer 1's is never needed) and the
    3 weight updates, each fused with its gradient: one addmm_ per layer, or B
    rank-1 addr_ per layer at B <= SMALL_BATCH. Eight GEMMs a step (the module
    docstring and benchmarks/test_bench_training.py's matmul ceiling say so)."""
    p = model.init_params(0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(bs, 784, generator=g), torch.randint(0, 10, (bs,), generator=g)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        engine.sgd_step(p, x, y, 0.01)
    products = {"aten::addmm", "aten::addmm_", "aten::mm", "aten::addr_", "aten::bmm", "aten::addmv_", "aten::mv"}
    got = sorted(e.name for e in prof.events() if e.name in products)
    assert got == sorted(["aten::addmm"] * 3 + ["aten::mm"] * 2 + updates), got



def test_flushing_denormals_changes_no_number_of_an_adam_run(mnist_root, monkeypatch):
    """engine.denormals_flushed, on in Adam runs, where it saves ~40% of the time,
    must leave the run's numbers bit-identical. Here Adam overfits 512 images
    until its softmax carries denormal probabilities (checked, so the test can
    fail), and the flushed run's history and weights equal the unflushed run's.
    This is a measured property of the suite's runs (also checked on the quick
    Adam runs of 3 seeds and a paper-scale one, whole histories), not a theorem:
    a contrived batch with logits ~100 apart from the first step does move the
    last bit of some of Adam's weights."""
    import contextlib

    from harness import trainer
    from harness.trainer import Phase, RunConfig
    cfg = RunConfig((Phase(20, 64, 0.01),), optimizer="adam", train_subset=512, test_subset=256,
                    train_eval_subset=256, snapshots=(20,))
    flushed, w = trainer.train(cfg, "cpu", mnist_root, mnist_root)
    (x, _), _, _ = trainer.splits(cfg, "cpu", mnist_root, mnist_root)
    p = torch.softmax(engine.forward(w["epoch20"], x)[0], 1)
    assert ((p > 0) & (p < torch.finfo(torch.float32).tiny)).sum() > 0, "the run must meet denormals"
    monkeypatch.setattr(engine, "denormals_flushed", lambda on=True: contextlib.nullcontext())
    plain, w0 = trainer.train(cfg, "cpu", mnist_root, mnist_root)
    assert flushed["history"] == plain["history"]
    assert all(torch.equal(a, b) for a, b in zip(w["epoch20"], w0["epoch20"]))


def test_denormals_flushed_restores_the_default():
    tiny = torch.tensor([1e-40])
    with engine.denormals_flushed():
        assert (tiny * 1.0).item() == 0.0
    assert (tiny * 1.0).item() != 0.0
