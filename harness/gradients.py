"""The gradient experiment of F4-F7: from a fixed start point, step through
the same 1024 training samples at each batch size and measure the last
layer's accumulated weight gradient.

Start points. The BS1024 lr 0.01 reference run (`protocol.sgd(scale, 1024,
0.01, seed)`) keeps its parameters after `protocol.grad_start_epochs(scale)`
epochs: (2, 30) at paper scale, (1, 6) at quick scale. They are read from the
run cache, never retrained.

One trial (index t):
- draw 1024 distinct samples, `torch.randperm(pool, generator=seed)[:1024]`
  with seed TRIAL_SEED_BASE + t, from the start run's own training set (the
  full 60k at paper scale, the scale's fixed 8000-image subset at quick scale:
  "the training set" is the one the start point was trained on). The trial
  seed is fixed, so a trial is reproducible and the early and late regimes see
  the same draws (paired);
- for each batch size B in BATCH_SIZES: reset to the start point and take the
  SGD steps (lr 0.01, batch-mean cross-entropy, the engine's loss) through
  the 1024 samples in their drawn order, batches of B consecutive samples;
- remainder: when B does not divide 1024 (B = 3, 5, 6, 7) the last batch is
  short (1024 mod B samples, its loss averaged over its own size), like a
  DataLoader that keeps the last batch. Because the short batch comes last,
  the "drop" handling (the short batch discarded, 1024 - 1024 mod B samples
  used) is the same trajectory stopped one step earlier, so both are read
  from one pass at no extra cost.

Readings of "the summed gradient" (g_k = batch-mean gradient of W3 at step k,
K steps, |B_k| samples in step k, N = samples used):
- "sum":  sum_k g_k, the post's literal "vector sum"; lr * this is exactly the
  last layer's displacement, the post's "distance moved" reading;
- "mean": sum_k |B_k| g_k / N, the per-sample average of the gradients taken
  along the trajectory; the mean of the per-step gradients when B divides
  1024, and the gradient a summed loss would give, up to the constant N;
- "sum-drop", "mean-drop": the same with the short last batch dropped;
- "step": no accumulation and no trajectory: at the start point, the gradient
  of the summed (not averaged) loss over the trial's first B samples, i.e. B
  g_1, the first step a summed loss would take. One batch per trial, so each
  trial gives one independent value per batch size, like the others.

Per-trial statistics are computed as trials run (no raw gradient tensor
kept): norms of every reading; the tail statistics of harness/tails.py (shape
statistics of "sum"; the count and fraction beyond a fixed value, the width of
the centre, of "sum", "mean" and "step"); histograms of "sum" and "mean"
(figures). At the start point also, for the gradient noise scale (McCandlish
et al. 2018, B_simple = tr(Sigma) / |G|^2): per batch size, the mean over the
trial's full batches of the squared norm of the batch-mean gradient, of W3
and of all parameters ("batch_sq"); E = |G|^2 + tr(Sigma) / B, so any two
batch sizes give the two-batch estimators; and the mean loss of the trial's
samples there ("start_loss"). The fast sampler that runs the trials is
harness/sampler.py.
"""
import math
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch

from . import data, estimate, provenance
# BATCH_SIZES, N_SAMPLES, LR, TRIAL_SEED_BASE and ABS_C are also read from here by the claims (F4-F7)
from .sampler import BATCH_SIZES, LR, N_SAMPLES, TRIAL_SEED_BASE, draw, sample_trials, start_gradients, start_loss
from .sampler import READINGS as TRAJECTORY_READINGS
from .tails import (ABS_C, HILL_M, HIST_EDGES, SIGNED_EDGES, TAIL_K, abs_count, abs_exceed, centre_width, log_hist,
                    signed_hist, tail_stats)
from .trainer import RunConfig

READINGS = TRAJECTORY_READINGS + ("step",)
VALUE_READINGS = ("sum", "mean", "step")  # readings whose values are summarised (F7: counts, centre width)
HIST_READINGS = ("sum", "mean")           # ... and histogrammed (figures; "step" left out to keep records small)
NOISE_PARAMS = ("W3", "all")              # batch_sq: the last layer's weights, every parameter
CHUNK = 8          # trials per cached spec, at least: the unit xdist workers share
MAX_CHUNKS = 25    # per regime, at most: at paper scale (1000 trials) 40-trial chunks of ~100 s. Each chunk's
                   # record carries its own histograms (~40 KB as JSON), so 8-trial chunks would publish 250
                   # records (18 MB) where 50 hold the same numbers (the trials' draws and the histogram bins
                   # do not depend on the chunking; tests/test_gradients.py checks it)
GROUP = 4          # trials per sample_trials call (float32: stepped one at a time, see sample_trials)
GRAD_TRIAL_FACTOR = 0.58  # a trial (sampler + statistics) / engine time of its SGD steps (see estimate_seconds)


# -- the cached spec ------------------------------------------------------------------
@dataclass(frozen=True)
class GradSpec:
    """Trials [first, first + count) of the gradient experiment in one regime
    (a spec, harness/spec.py)."""
    start: RunConfig            # the BS1024 lr 0.01 reference run holding the snapshot
    regime: str                 # "early" | "late"
    start_epoch: int            # which snapshot of `start`
    first: int
    count: int
    batch_sizes: tuple[int, ...] = BATCH_SIZES
    n_samples: int = N_SAMPLES
    lr: float = LR
    tail_k: float = TAIL_K
    hill_m: int = HILL_M
    abs_c: float = ABS_C
    group: int = GROUP
    kind: str = field(default="grad", init=False)
    # The code whose version keys this entry (harness/numerics.py): the sampler's
    # arithmetic and record content, and the training of the start run.
    numerics: ClassVar[tuple[str, ...]] = ("train", "grad")

    def describe(self) -> str:
        return (f"gradients {self.regime} (epoch {self.start_epoch} of BS1024 seed{self.start.seed}) "
                f"trials {self.first}..{self.first + self.count - 1}")

    def cost(self) -> float:
        """Samples processed (~15 x 1024 per trial), comparable with RunConfig.cost."""
        return self.count * len(self.batch_sizes) * self.n_samples * 1.3

    def estimate_seconds(self, calib) -> float:
        """Wall time of this chunk from the engine's calibration (estimate.calibrate:
        seconds per SGD step by batch size). A trial takes about GRAD_TRIAL_FACTOR x
        the engine time of its SGD steps (2912 at 15 batch sizes over 1024 samples):
        measured 1.72-1.80 s of sampler + 0.04 s of statistics per trial against
        3.3-3.6 s of calibrated steps, float32, 1 thread, 2-core AMD EPYC (Zen 5);
        start_gradients adds about a tenth of the sampler's time (0.27 s against
        2.7 s per trial on a loaded 2-core Xeon), hence 0.58."""
        steps = sum(math.ceil(self.n_samples / B) * estimate.step_seconds(calib, B) for B in self.batch_sizes)
        return self.count * steps * GRAD_TRIAL_FACTOR

    def needs(self) -> tuple:
        """The start run: compute reads its snapshot weights."""
        return (self.start,)

    def compute(self, ctx):
        t0 = time.perf_counter()
        entry = ctx.results([self.start], need_tensors=True)[0]
        params = [p.to(torch.float32) for p in entry["tensors"][f"epoch{self.start_epoch}"]]
        x_tr, y_tr = training_pool(self.start, ctx)
        scale = self._reference_scales(params, x_tr, y_tr)
        stats = _Stats(self.count, len(self.batch_sizes))
        trials = list(range(self.first, self.first + self.count))
        t_sample = t_start = 0.0
        for g0 in range(0, self.count, self.group):
            idx = trials[g0:g0 + self.group]
            xs, ys = _trial_data(x_tr, y_tr, idx, self.n_samples)
            ts = time.perf_counter()
            out = sample_trials(params, xs, ys, self.batch_sizes, self.lr)
            t_sample += time.perf_counter() - ts
            ts = time.perf_counter()
            at_start = start_gradients(params, xs, ys, self.batch_sizes)
            stats.start_loss[g0:g0 + len(idx)] = start_loss(params, xs, ys)
            t_start += time.perf_counter() - ts
            for j, B in enumerate(self.batch_sizes):
                grads = dict(out[B], step=at_start[B]["step"])
                stats.add(g0, j, grads, at_start[B], scale, self)
        wall = time.perf_counter() - t0
        record = {
            "spec": self.describe(), "regime": self.regime, "start_epoch": self.start_epoch,
            "trials": trials, "batch_sizes": list(self.batch_sizes), "readings": list(READINGS),
            **stats.fields(),
            "hist_edges": list(HIST_EDGES), "signed_edges": list(SIGNED_EDGES),
            "s_ref": scale["sum"], "s_ref_step": scale["step"], "pool": len(x_tr),
            "sampler_s": t_sample, "start_s": t_start, "wall_s": wall, "trials_per_s": self.count / t_sample,
            "threads": torch.get_num_threads(),
            "provenance": provenance.collect(ctx.device) | {
                "fingerprint": ctx.fingerprint, "cache_key": ctx.key(self), "wall_s": wall,
                "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")},
        }
        return {"record": record, "tensors": {}}

    def summary(self, record) -> dict:
        """Mean gradient norm per reading at the largest batch size, to compare two machines' records."""
        return {r: float(record["norms"][r][:, -1].mean()) for r in record["norms"]}

    def _reference_scales(self, params, x_tr, y_tr):
        """{reading: RMS of trial 0's BS-n gradient under it}: the unit of the fixed
        threshold and the bins, shared by every chunk ("sum" and "mean" share one)."""
        x0, y0 = _trial_data(x_tr, y_tr, [0], self.n_samples)
        n = self.n_samples
        s_ref = _rms(sample_trials(params, x0, y0, (n,), self.lr)[n]["sum"][0])
        return {"sum": s_ref, "mean": s_ref, "step": _rms(start_gradients(params, x0, y0, (n,))[n]["step"][0])}

    def diverged_at(self, entry) -> None:
        """A chunk of trials steps from a finite start point for 1024 samples: never recorded as diverged."""
        return None


class _Stats:
    """The per-trial statistics of one chunk, filled as its trials run."""

    def __init__(self, count, nb):
        f64 = lambda: torch.zeros(count, nb, dtype=torch.float64)  # noqa: E731
        i64 = lambda: torch.zeros(count, nb, dtype=torch.int64)  # noqa: E731
        self.norms = {r: f64() for r in READINGS}
        self.tails = {s: f64() for s in ("exceed", "kurtosis", "hill")}
        self.zeros = i64()
        self.abs_exceed = {r: f64() for r in VALUE_READINGS}
        self.abs_count = {r: i64() for r in VALUE_READINGS}
        self.centre = {r: f64() for r in VALUE_READINGS}
        self.batch_sq = {k: f64() for k in NOISE_PARAMS}
        self.start_loss = torch.zeros(count, dtype=torch.float64)
        self.hist = {r: torch.zeros(nb, len(HIST_EDGES) + 1, dtype=torch.int64) for r in HIST_READINGS}
        self.hist_signed = {r: torch.zeros(nb, len(SIGNED_EDGES) + 1, dtype=torch.int64) for r in HIST_READINGS}

    def add(self, g0, j, grads, at_start, scale, spec):
        """Batch size j of the trials from row g0: grads {reading: (T, 10, H)}."""
        rows = slice(g0, g0 + len(grads["sum"]))
        for r in READINGS:
            self.norms[r][rows, j] = grads[r].flatten(1).double().norm(dim=1)
        for k in NOISE_PARAMS:
            self.batch_sq[k][rows, j] = at_start[f"sq_{k}"]
        for q in range(len(grads["sum"])):
            row = g0 + q
            z, ex, ku, hi = tail_stats(grads["sum"][q], spec.tail_k, spec.hill_m)
            self.zeros[row, j] = z
            self.tails["exceed"][row, j], self.tails["kurtosis"][row, j], self.tails["hill"][row, j] = ex, ku, hi
            for r in VALUE_READINGS:
                v, threshold = grads[r][q], spec.abs_c * scale[r]
                self.abs_exceed[r][row, j] = abs_exceed(v, threshold)
                self.abs_count[r][row, j] = abs_count(v, threshold)
                self.centre[r][row, j] = centre_width(v)
            for r in HIST_READINGS:
                self.hist[r][j] += log_hist(grads[r][q], scale[r])
                self.hist_signed[r][j] += signed_hist(grads[r][q], scale[r])

    def fields(self):
        return {k: getattr(self, k) for k in ("norms", "tails", "zeros", "abs_exceed", "abs_count", "centre",
                                              "batch_sq", "start_loss", "hist", "hist_signed")}


def _rms(v):
    return v.pow(2).mean().sqrt().item()


def training_pool(start: RunConfig, ctx):
    """The start run's training images and labels (CPU), subset as the trainer does."""
    root = data.resolve_root(start.dataset, ctx.data_root, ctx.cache_root, ctx.download)
    ds = data.load(start.dataset, start.scaling, "cpu", str(root), ctx.download)
    sub = data.fixed_subset(len(ds.x_train), start.train_subset, salt=0)
    return (ds.x_train, ds.y_train) if sub is None else (ds.x_train[sub], ds.y_train[sub])


def _trial_data(x, y, trials, n):
    idx = torch.stack([draw(t, len(x), n) for t in trials])
    return x[idx], y[idx]


# -- specs and results ---------------------------------------------------------------------
def chunk_size(trials: int) -> int:
    """Trials per chunk: CHUNK, or more where that would make over MAX_CHUNKS chunks a regime."""
    return max(CHUNK, math.ceil(trials / MAX_CHUNKS))


def specs(scale, start: RunConfig, regimes=("early", "late"), chunk=None):
    """Every chunk of both regimes at this scale."""
    from . import protocol
    chunk = chunk or chunk_size(scale.grad_trials)
    epochs = dict(zip(("early", "late"), protocol.grad_start_epochs(scale)))
    return [GradSpec(start, r, epochs[r], f, min(chunk, scale.grad_trials - f))
            for r in regimes for f in range(0, scale.grad_trials, chunk)]


def gather(records):
    """Concatenate the chunks of one regime (in trial order) into numpy arrays."""
    recs = sorted(records, key=lambda r: r["trials"][0])
    cat = lambda get: np.concatenate([get(r).numpy() for r in recs])  # noqa: E731
    by_key = lambda f: {k: np.concatenate([r[f][k].numpy() for r in recs]) for k in recs[0][f]}  # noqa: E731
    return {
        "trials": sum((r["trials"] for r in recs), []),
        "batch_sizes": recs[0]["batch_sizes"],
        **{f: by_key(f) for f in ("norms", "tails", "abs_exceed", "abs_count", "centre", "batch_sq")},
        "zeros": cat(lambda r: r["zeros"]), "start_loss": cat(lambda r: r["start_loss"]),
        "hist": {k: sum(r["hist"][k] for r in recs).numpy() for k in recs[0]["hist"]},
        "hist_signed": {k: sum(r["hist_signed"][k] for r in recs).numpy() for k in recs[0]["hist_signed"]},
        "hist_edges": np.asarray(recs[0]["hist_edges"]), "signed_edges": np.asarray(recs[0]["signed_edges"]),
        "s_ref": recs[0]["s_ref"], "s_ref_step": recs[0]["s_ref_step"],
        "start_epoch": recs[0]["start_epoch"], "pool": recs[0]["pool"],
        "sampler_s": sum(r["sampler_s"] for r in recs),
        "trials_per_s": len(sum((r["trials"] for r in recs), [])) / sum(r["sampler_s"] for r in recs),
    }


def fit_exponent(bs, mean_norms):
    """Slope of log(mean norm) against log(batch size), least squares."""
    return float(np.polyfit(np.log(np.asarray(bs, float)), np.log(np.asarray(mean_norms, float)), 1)[0])


def start_run(scale, seeds):
    """The reference run whose snapshots are the start points (the first seed)."""
    from . import protocol
    return protocol.sgd(scale, protocol.GRAD_START_BS, protocol.GRAD_START_LR, seeds[0])


def required(scale, seeds):
    start = start_run(scale, seeds)
    return [start] + specs(scale, start)


def experiment(ctx):
    """{regime: gathered arrays} for the session's scale, computing missing chunks."""
    sp = specs(ctx.scale, start_run(ctx.scale, ctx.seeds))
    recs = ctx.records(sp)
    return {r: gather([rec for s, rec in zip(sp, recs) if s.regime == r]) for r in ("early", "late")}


def protocol_note(ctx, ex):
    e, l = ex["early"], ex["late"]
    start = start_run(ctx.scale, ctx.seeds)
    return {"dataset": start.dataset, "scaling": start.scaling,
            "start": f"BS1024 lr 0.01 seed{ctx.seeds[0]}, epochs {e['start_epoch']} (early) / {l['start_epoch']} (late)",
            "trials": f"{len(e['trials'])} per regime (paired draws, seed {TRIAL_SEED_BASE}+t)",
            "samples": f"{N_SAMPLES} per trial, drawn from the start run's {e['pool']} training images",
            "batch_sizes": list(BATCH_SIZES), "lr": LR, "loss": "batch-mean cross-entropy",
            "remainder": "short last batch (drop readings: discarded)",
            "step": "summed-loss gradient of the trial's first BS samples at the start point",
            "sampler": f"{e['trials_per_s']:.3g} trials/s early, {l['trials_per_s']:.3g} late (per worker)"}

