"""The simple gradient noise scale B_simple = tr(Sigma) / |G|^2 (McCandlish,
Kaplan, Amodei et al. 2018, An Empirical Model of Large-Batch Training,
arXiv:1812.06162), from squared norms of batch-mean gradients.

The identity it rests on. At fixed weights, let G be the mean of the N
per-example gradients of the pool and Sigma their covariance (divisor N).
The mean gradient g_B of a batch of B examples drawn from the pool has

    E |g_B|^2 = |G|^2 + tr(Sigma) / B                    (with replacement)
    E |g_B|^2 = |G|^2 + tr(Sigma) / B * (N - B)/(N - 1)  (without replacement)

so the squared norm of one batch-mean gradient *falls* with the batch size,
towards |G|^2; the noise term dominates while B < B_simple. (This is what the
post's F4 meets: its summed gradient over 1024/B steps has, at fixed weights,
E|sum|^2 = (1024/B)^2 |G|^2 + 1024 tr(Sigma)/B^2, which falls like 1/B^2,
so the norm falls with B; only B times one batch-mean gradient, the gradient
of a summed loss, grows, like sqrt(B) below B_simple and like B above it.)

Two batch sizes B_small < B_big at the same weights give unbiased estimates
of both terms from the means m_small, m_big of the squared norms (the
two-batch estimator of the paper's appendix A.1, here with the pool's
finite-population factor c(B) = (N - B) / (B (N - 1)), which is 1/B for an
infinite pool or sampling with replacement):

    tr(Sigma) = (m_small - m_big) / (c(B_small) - c(B_big))
    |G|^2     = (c(B_small) m_big - c(B_big) m_small) / (c(B_small) - c(B_big))

B_simple is their ratio. The inputs are the gradient experiment's "batch_sq"
(harness/sampler.py start_gradients: per trial, the mean over its full
batches of |g_B|^2, for the last layer W3 and for every parameter), read from
the F4 records at its start points, or computed by NoiseSpec (below) on the
snapshot weights of another run with the same function. Batches within a
trial are disjoint consecutive slices of 1024 distinct samples of the pool,
so each batch is, marginally, a uniform draw without replacement from the
pool: the finite-population factor applies with N = the pool's size (8000
at quick scale, where it moves B_simple by ~20% late in training; 60000 at
paper scale).
"""
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from . import estimate, provenance, verdicts
from .gradients import _trial_data, training_pool
from .sampler import N_SAMPLES, start_gradients, start_loss
from .trainer import RunConfig

PARAMS = ("W3", "all")       # the last layer's weights (the post's tensor), every parameter
B_SMALL, B_BIG = 1, N_SAMPLES  # the two batch sizes: single examples, and all of a trial's samples
GROUP = 4                    # trials per start_gradients call (memory: a few 1024 x 1024 Gram matrices each)
# A trial's time / one SGD step of BS1024 (cost, estimate_seconds): 0.22-0.23 s against 0.095-0.10 s,
# measured one after the other, 1 thread, 2-core Intel Xeon under load (2026-12-01).
TRIAL_STEPS = 2.3


def population_factor(b, pool=None):
    """c(B): the noise variance of a batch-mean gradient is tr(Sigma) c(B).
    1/B with replacement (pool None); (N - B) / (B (N - 1)) without, from N."""
    b = np.asarray(b, float)
    return 1.0 / b if pool is None else (pool - b) / (b * (pool - 1.0))


def two_batch(m_small, m_big, b_small, b_big, pool=None):
    """(|G|^2, tr(Sigma)) from the mean squared norms of batch-mean gradients
    at two batch sizes, same weights (the formulas in the module docstring)."""
    cs, cb = population_factor(b_small, pool), population_factor(b_big, pool)
    trace = (m_small - m_big) / (cs - cb)
    g2 = (cs * m_big - cb * m_small) / (cs - cb)
    return g2, trace


def b_simple(m_small, m_big, b_small, b_big, pool=None):
    """B_simple = tr(Sigma) / |G|^2 from the two-batch estimates."""
    g2, trace = two_batch(m_small, m_big, b_small, b_big, pool)
    return trace / g2


def from_trials(batch_sq, batch_sizes, pool, b_small=B_SMALL, b_big=B_BIG):
    """B_simple from per-trial squared norms (trials x batch sizes, one
    parameter group), the means taken over trials."""
    bs = list(batch_sizes)
    sq = np.asarray(batch_sq, float)
    return float(b_simple(sq[:, bs.index(b_small)].mean(), sq[:, bs.index(b_big)].mean(), b_small, b_big, pool))


def from_trials_ci(batch_sq, batch_sizes, pool, **kw):
    """(B_simple, its 90% percentile-bootstrap interval over trials)."""
    return verdicts.bootstrap_rows(lambda a: from_trials(a, batch_sizes, pool, **kw), batch_sq)


def predicted_sq(batch_sq, batch_sizes, pool, b, b_small=B_SMALL, b_big=B_BIG):
    """The identity's E|g_b|^2 = |G|^2 + tr(Sigma) c(b), from the two-batch estimates."""
    bs = list(batch_sizes)
    sq = np.asarray(batch_sq, float)
    g2, trace = two_batch(sq[:, bs.index(b_small)].mean(), sq[:, bs.index(b_big)].mean(), b_small, b_big, pool)
    return g2 + trace * population_factor(b, pool)


# -- B_simple at other checkpoints: the same inputs on a run's snapshot weights ---------
@dataclass(frozen=True)
class NoiseSpec:
    """The gradient noise scale's inputs at one snapshot of a run (a spec,
    harness/spec.py): trials [0, trials) drawn as the gradient experiment
    draws them (sampler.draw, the start run's own training pool), each giving
    sampler.start_gradients' batch_sq at B_SMALL and B_BIG, and the mean loss
    of its samples."""
    start: RunConfig            # the run whose snapshot weights are read
    epoch: int                  # which snapshot
    trials: int
    batch_sizes: tuple[int, ...] = (B_SMALL, B_BIG)
    group: int = GROUP
    kind: str = field(default="noise", init=False)
    numerics: ClassVar[tuple[str, ...]] = ("train", "grad")  # the start run's training and the sampler's code

    def describe(self) -> str:
        return f"noise scale at epoch {self.epoch} of {self.start.describe()}, {self.trials} trials"

    def cost(self) -> float:
        """Samples processed, comparable with RunConfig.cost: a trial (its
        Gram products) costs about as much as TRIAL_STEPS SGD steps of its
        1024 samples."""
        return self.trials * N_SAMPLES * TRIAL_STEPS

    def estimate_seconds(self, calib) -> float:
        return self.trials * TRIAL_STEPS * estimate.step_seconds(calib, N_SAMPLES)

    def needs(self) -> tuple:
        return (self.start,)

    def compute(self, ctx):
        t0 = time.perf_counter()
        entry = ctx.results([self.start], need_tensors=True)[0]
        params = [p.to(torch.float32) for p in entry["tensors"][f"epoch{self.epoch}"]]
        x_tr, y_tr = training_pool(self.start, ctx)
        sq = {k: torch.zeros(self.trials, len(self.batch_sizes), dtype=torch.float64) for k in PARAMS}
        loss = torch.zeros(self.trials, dtype=torch.float64)
        for g0 in range(0, self.trials, self.group):
            idx = list(range(g0, min(g0 + self.group, self.trials)))
            xs, ys = _trial_data(x_tr, y_tr, idx, N_SAMPLES)
            out = start_gradients(params, xs, ys, self.batch_sizes)
            for j, b in enumerate(self.batch_sizes):
                for k in PARAMS:
                    sq[k][g0:g0 + len(idx), j] = out[b][f"sq_{k}"]
            loss[g0:g0 + len(idx)] = start_loss(params, xs, ys)
        wall = time.perf_counter() - t0
        record = {"spec": self.describe(), "epoch": self.epoch, "batch_sizes": list(self.batch_sizes),
                  "batch_sq": sq, "start_loss": loss, "pool": len(x_tr), "wall_s": wall,
                  "provenance": provenance.collect(ctx.device) | {
                      "fingerprint": ctx.fingerprint, "cache_key": ctx.key(self), "wall_s": wall,
                      "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}}
        return {"record": record, "tensors": {}}

    def summary(self, record) -> dict:
        return {k: float(record["batch_sq"][k].mean()) for k in PARAMS}

    def diverged_at(self, entry) -> None:
        """Gradients at a finite snapshot: never recorded as diverged."""
        return None
