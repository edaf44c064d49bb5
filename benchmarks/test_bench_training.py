"""Training-step speed at every batch size of the table: the harness engine
(harness/engine.py sgd_step) against a plain PyTorch loop (data in memory,
nn.Sequential, autograd, optim.SGD) and against the matmul ceiling of the same
step; at BS64 also against the tutorial loop (DataLoader over torchvision MNIST
with ToTensor). The rounds of all of them are interleaved (benchmarks/_bench.py).

The ceiling: the step's GEMMs alone, same shapes, preallocated outputs
(torch.mm(out=)), nothing else. Our SGD step (engine.sgd_step) does EIGHT
matrix products: forward 3 (addmm per layer), input gradients 2 (dz @ W3 and
dh2 @ W2; layer 1 needs none) and weight gradients 3, each fused into its
update (addmm_ for batches over engine.SMALL_BATCH rows; up to 4 rows, B
rank-1 addr_ updates instead). The ceiling times those eight as GEMMs with
k = B. "FLOP rate vs matmul ceiling" is ceiling time / our time: the share of
the bare-GEMM rate our whole step reaches (1 = nothing but BLAS).

Run: BSC_DATA_ROOT=../shared/data BSC_BENCH_THREADS=1 python -m pytest benchmarks/ -p no:xdist -s
"""
import os

import pytest
import torch

from _bench import interleaved, record
from harness import engine, model

BATCH_SIZES = (1, 2, 8, 64, 256, 1024)
ROUNDS = int(os.environ.get("BSC_BENCH_ROUNDS", 5))
WIDTHS = model.WIDTHS
N = 60000


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    return torch.rand(N, 784, generator=g), torch.randint(0, 10, (N,), generator=g)


def steps_for(bs):
    return max(20, min(400, 10000 // bs))


def plain_loop():
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


def ours():
    params = model.init_params(0)
    return lambda x, y: engine.sgd_step(params, x, y, 0.01)


def gemm_ceiling(bs):
    """The eight GEMMs of one SGD step at batch size bs (see the module docstring)."""
    g = torch.Generator().manual_seed(0)
    Ws = [torch.rand(o, i, generator=g) for i, o in zip(WIDTHS[:-1], WIDTHS[1:])]
    acts = [torch.rand(bs, w, generator=g) for w in WIDTHS]
    outs = [torch.empty(bs, w) for w in WIDTHS]
    gW = [torch.empty_like(W) for W in Ws]

    def step(x, y):
        for k, W in enumerate(Ws):
            torch.mm(acts[k], W.t(), out=outs[k + 1])       # forward: 3
        for k, W in enumerate(Ws):
            torch.mm(acts[k + 1].t(), acts[k], out=gW[k])   # weight gradient: 3
            if k > 0:
                torch.mm(acts[k + 1], W, out=outs[k])       # input gradient of layers 2 and 3: 2
    return step


def gemms_per_step():
    """tests/test_engine.py counts them in engine.sgd_step with the profiler."""
    return 3 + 3 + 2


def flops_per_step(bs):
    """2 x bs x (in x out) per GEMM: forward and weight gradients of every layer,
    input gradients of layers 2 and 3."""
    mats = [i * o for i, o in zip(WIDTHS[:-1], WIDTHS[1:])]
    return 2 * bs * (3 * sum(mats) - mats[0])


def loop(step, x, y, idx):
    def run():
        for i in range(len(idx)):
            step(x[idx[i]], y[idx[i]])
    return run


def tutorial_loop(n):
    """The loop most tutorials teach: DataLoader over torchvision MNIST with
    ToTensor, batch 64, shuffling; n steps of the plain loop."""
    root = os.environ.get("BSC_DATA_ROOT")
    if not root:
        return None
    import tempfile

    import torchvision

    from harness import data as hdata
    cache = os.environ.get("BSC_CACHE_DIR", tempfile.gettempdir())
    ds = torchvision.datasets.MNIST(str(hdata.resolve_root("mnist", root, cache)), train=True,
                                    transform=torchvision.transforms.ToTensor())
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
    step = plain_loop()

    def run():
        for i, (x, y) in enumerate(loader):
            step(x.view(len(x), -1), y)
            if i + 1 == n:
                break
    return run


@pytest.mark.parametrize("bs", BATCH_SIZES)
def test_train_step(data, bs):
    x, y = data
    n = steps_for(bs)
    idx = torch.randint(0, N, (n, bs), generator=torch.Generator().manual_seed(1))
    impls = {"ours": loop(ours(), x, y, idx), "plain": loop(plain_loop(), x, y, idx),
             "ceiling": loop(gemm_ceiling(bs), x, y, idx)}
    rows = [("ours vs plain loop", "plain", "ours"),
            (f"FLOP rate vs matmul ceiling ({gemms_per_step()} GEMMs)", "ceiling", "ours")]
    if bs == 64:
        tut = tutorial_loop(100)
        if tut is not None:
            impls["tutorial"] = tut
            rows.append(("ours vs tutorial DataLoader loop", "tutorial", "ours"))
    units = {name: n for name in impls}
    units["tutorial"] = 100
    times = interleaved(impls, ROUNDS, 1)
    times = {k: [t / units[k] for t in v] for k, v in times.items()}
    record(f"train step BS{bs}", "step", times, rows)
    med = sorted(times["ours"])[len(times["ours"]) // 2]
    print(f"\nBS{bs}: ours {flops_per_step(bs) / med / 1e9:.1f} GFLOP/s")
