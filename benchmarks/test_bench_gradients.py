"""Gradient-sampler speed (F4-F7): trials per second of the fast sampler
(harness.sampler.sample_trials, float32, as GradSpec.compute runs it) against
the naive per-trial loop (nn.Sequential, autograd, optim.SGD;
harness.reference.naive_trial), on the same random inputs in the same run. A trial is all 15 batch sizes over
1024 samples (2912 SGD steps), so the ratio weighs small and large batches as
the experiment does. About 30 s on 2 cores.

Run: python -m pytest benchmarks/test_bench_gradients.py -p no:xdist
"""
import pytest
import torch

from _bench import record
from harness import model, reference, sampler


@pytest.fixture(scope="module")
def trial_data():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, sampler.N_SAMPLES, 784, generator=g)
    y = torch.randint(0, 10, (1, sampler.N_SAMPLES), generator=g)
    return model.init_params(0), x, y


@pytest.mark.parametrize("impl", ["ours", "naive"])
def test_gradient_trial(benchmark, trial_data, impl):
    p, x, y = trial_data
    if impl == "ours":
        run = lambda: sampler.sample_trials(p, x, y)  # noqa: E731
        rounds = 3
    else:
        run = lambda: reference.naive_trial(p, x[0], y[0])  # noqa: E731
        rounds = 2
    benchmark.pedantic(run, rounds=rounds, warmup_rounds=0)
    record(benchmark, "gradient sampler", impl, 1, unit="trial")
