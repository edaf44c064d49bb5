"""Seeds trained together (--batched-seeds, harness/batched.py) against the
same seeds trained one after the other: SGD steps of 3 seeds, each with its
own batches, as batched.sgd_step (one baddbmm/bmm call per product for the 3)
and as 3 engine.sgd_step calls, rounds interleaved (benchmarks/_bench.py),
same threads. The unit is one seed's step: the ratio is singles' time / batched
time, above 1 when batching is faster. The batch gather (x[idx]) is timed on
both sides, as training does it.

On a CPU, a batched GEMM is S GEMMs of the same shapes (what MKL does per
matrix), so batching saves only the per-call overhead: expect ~1 from BS64 up,
a little above at tiny batches. A GPU, where a step of this small MLP is
launch-bound, is where it should pay; that path is not measured here.

Run: BSC_BENCH_THREADS=2 python -m pytest benchmarks/test_bench_batched.py -p no:xdist -s
(BSC_BENCH_BATCHED_ROUNDS, default 5; about a minute on 2 quiet cores.)
"""
import os

import pytest
import torch

from _bench import interleaved, record
from harness import batched, engine, model

SEEDS = 3
BATCH_SIZES = (8, 64, 256, 1024)
ROUNDS = int(os.environ.get("BSC_BENCH_BATCHED_ROUNDS", 5))
N = 60000


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    return torch.rand(N, 784, generator=g), torch.randint(0, 10, (N,), generator=g)


def steps_for(bs):
    return max(10, min(100, 3000 // bs))


def singles(x, y, idx):
    params = [model.init_params(s) for s in range(SEEDS)]

    def run():
        for i in range(idx.shape[1]):
            for s in range(SEEDS):
                engine.sgd_step(params[s], x[idx[s, i]], y[idx[s, i]], 0.01)
    return run


def together(x, y, idx):
    starts = [model.init_params(s) for s in range(SEEDS)]
    params = [torch.stack([p[k] for p in starts]) for k in range(len(starts[0]))]

    def run():
        for i in range(idx.shape[1]):
            batched.sgd_step(params, x[idx[:, i]], y[idx[:, i]], 0.01)
    return run


@pytest.mark.parametrize("bs", BATCH_SIZES)
def test_seeds_together(data, bs):
    x, y = data
    n = steps_for(bs)
    idx = torch.randint(0, N, (SEEDS, n, bs), generator=torch.Generator().manual_seed(1))
    times = interleaved({"batched": together(x, y, idx), "singles": singles(x, y, idx)}, ROUNDS, SEEDS * n)
    record(f"{SEEDS} seeds BS{bs}", "seed-step", times, [("batched vs singles in sequence", "singles", "batched")])
