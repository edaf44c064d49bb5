"""Gradient-sampler speed (F4-F7): trials per second of the fast sampler
(harness.sampler.sample_trials, float32, as GradSpec.compute runs it: the
oneDNN prepacked path where it works) against the naive per-trial loop
(nn.Sequential, autograd, optim.SGD; harness.reference.naive_trial), on the
same random inputs in the same run, one warm-up call each and then rounds of
the two interleaved (benchmarks/_bench.py). A trial is all 15 batch sizes over
1024 samples (2912 SGD steps), so the ratio weighs small and large batches as
the experiment does. About 40 s with 3 rounds on 1 thread.

Run: python -m pytest benchmarks/test_bench_gradients.py -p no:xdist -s
"""
import os

import torch

from _bench import interleaved, record
from harness import model, reference, sampler

ROUNDS = int(os.environ.get("BSC_BENCH_GRAD_ROUNDS", 3))


def test_gradient_trial():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, sampler.N_SAMPLES, 784, generator=g)
    y = torch.randint(0, 10, (1, sampler.N_SAMPLES), generator=g)
    p = model.init_params(0)
    times = interleaved({"ours": lambda: sampler.sample_trials(p, x, y),
                         "naive": lambda: reference.naive_trial(p, x[0], y[0])}, ROUNDS, 1)
    record("gradient sampler", "trial", times, [("ours vs naive loop", "naive", "ours")])
