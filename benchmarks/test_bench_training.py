"""Training-step speed: the harness engine against a plain PyTorch loop (data
in memory, nn.Sequential, autograd, optim.SGD) and the idiomatic tutorial loop
(DataLoader over torchvision MNIST with ToTensor); and the FLOP rate of our
step against the matmul rate of the same shapes (the ceiling).

Run: python -m pytest benchmarks/ -p no:xdist --benchmark-columns=median,rounds
"""
import os
import time

import pytest
import torch

from _bench import RESULTS, record
from harness import engine, model

BATCH_SIZES = (1, 2, 8, 64, 256, 1024)
WIDTHS = model.WIDTHS
N = 60000


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    return torch.rand(N, 784, generator=g), torch.randint(0, 10, (N,), generator=g)


def steps_for(bs):
    return max(20, min(400, 40000 // bs // 4))


def plain_loop(bs):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                              torch.nn.ReLU(), torch.nn.Linear(1024, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    return step


def ours(bs):
    params = model.init_params(0)
    return lambda x, y: engine.sgd_step(params, x, y, 0.01)


def flops_per_step(bs):
    """Forward, weight gradients, and input gradients of layers 2 and 3."""
    mats = [i * o for i, o in zip(WIDTHS[:-1], WIDTHS[1:])]
    return 2 * bs * (3 * sum(mats) - mats[0])


@pytest.mark.parametrize("impl", ["ours", "plain"])
@pytest.mark.parametrize("bs", BATCH_SIZES)
def test_train_step(benchmark, data, bs, impl):
    x, y = data
    step = (ours if impl == "ours" else plain_loop)(bs)
    n = steps_for(bs)
    idx = torch.randint(0, N, (n, bs), generator=torch.Generator().manual_seed(1))

    def run():
        for i in range(n):
            step(x[idx[i]], y[idx[i]])
    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    record(benchmark, f"train step BS{bs}", impl, n)


@pytest.mark.parametrize("bs", [256, 1024])
def test_matmul_ceiling(benchmark, bs):
    """The six GEMMs of one step (3 forward, 3 weight-gradient, 2 input-gradient)
    with preallocated outputs: what the step would cost if nothing but BLAS ran."""
    g = torch.Generator().manual_seed(0)
    Ws = [torch.rand(o, i, generator=g) for i, o in zip(WIDTHS[:-1], WIDTHS[1:])]
    acts = [torch.rand(bs, w, generator=g) for w in WIDTHS]
    outs = [torch.empty(bs, w) for w in WIDTHS]
    gW = [torch.empty_like(W) for W in Ws]
    n = 10

    def run():
        for _ in range(n):
            for k, W in enumerate(Ws):
                torch.mm(acts[k], W.t(), out=outs[k + 1])       # forward
                torch.mm(acts[k + 1].t(), acts[k], out=gW[k])   # weight gradient
                if k > 0:
                    torch.mm(acts[k + 1], W, out=outs[k])       # input gradient
    benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    record(benchmark, f"FLOP rate BS{bs}", "matmul ceiling", n)
    ours_t = RESULTS.get((f"train step BS{bs}", "ours"))
    if ours_t is not None:  # our step's FLOP rate, as a share of the ceiling
        RESULTS[(f"FLOP rate BS{bs}", "ours")] = ours_t
        f = flops_per_step(bs)
        print(f"\nBS{bs}: ours {f / ours_t / 1e9:.1f} GFLOP/s, ceiling "
              f"{f / RESULTS[(f'FLOP rate BS{bs}', 'matmul ceiling')] / 1e9:.1f} GFLOP/s")


def test_tutorial_loop(benchmark, data):
    """The loop most tutorials teach: DataLoader over torchvision MNIST with
    ToTensor, batch 64, shuffling. Needs MNIST (BSC_DATA_ROOT)."""
    root = os.environ.get("BSC_DATA_ROOT")
    if not root:
        pytest.skip("set BSC_DATA_ROOT to benchmark the tutorial loop")
    import torchvision
    from harness import data as hdata
    import tempfile
    cache = os.environ.get("BSC_CACHE_DIR", tempfile.gettempdir())
    ds = torchvision.datasets.MNIST(str(hdata.resolve_root("mnist", root, cache)), train=True,
                                    transform=torchvision.transforms.ToTensor())
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
    step = plain_loop(64)
    n = 100

    def run():
        for i, (x, y) in enumerate(loader):
            step(x.view(len(x), -1), y)
            if i + 1 == n:
                break
    benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    record(benchmark, "train step BS64", "tutorial DataLoader loop", n)
