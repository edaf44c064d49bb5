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
- "sum-drop", "mean-drop": the same with the short last batch dropped.

Per-trial statistics computed as trials run (no raw gradient tensors kept):
norms of every reading; tail statistics of the 10240 values of the "sum"
gradient (exact zeros, from dead ReLU units, counted and excluded):
exceedance fraction beyond TAIL_K robust spreads (1.4826 MAD about the
median), excess kurtosis, Hill tail index on the HILL_M largest |values|.
These are scale-free, so "mean" gives the same values as "sum". The post's
literal comparison, counts beyond one fixed value on the axis, is kept per
reading as the fraction of nonzero |values| above ABS_C * s_ref, where s_ref
is the RMS of the BS1024 gradient of trial 0 (the same in every chunk).
Fixed-bin histograms of log10(|value| / s_ref) are summed over the chunk's
trials for the figures.

Speed: the first layer is never updated explicitly. With P1 = X W1_0^T + b1_0
precomputed once per trial (shared by all batch sizes) and G = X X^T + 1,
the first layer's pre-activation of sample t after earlier samples s is
    z1_t = P1_t - sum_{s earlier} G[t, s] * lr * d1_s,
(d1_s: the batch-mean loss's gradient w.r.t. z1 of sample s). Updates are
delayed in blocks of BLOCK samples: inside a block the block's earlier
updates enter as short Gram corrections (layer 1 as above, layer 2 through
[h1, 1] products); at the block's end they are folded with one GEMM into an
explicit per-trial [W2 | b2] and into P1 of every later sample. float32
trials are stepped one at a time (the per-trial W2 stays in cache), with
oneDNN's prepacked products for batch sizes 2-31; float64 stacks T trials as
a leading bmm dimension. benchmarks/RESULTS.md has the measurements.
`naive_trial` is the plain nn.Module + autograd + optim.SGD loop that
tests/test_gradients.py checks the fast sampler against.
"""
import functools
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import data, model
from .trainer import RunConfig

BATCH_SIZES = tuple(range(1, 9)) + tuple(2 ** k for k in range(4, 11))  # 1..8, then 16..1024
N_SAMPLES = 1024
LR = 0.01
READINGS = ("sum", "mean", "sum-drop", "mean-drop")
TRIAL_SEED_BASE = 1_000_000_007
TAIL_K = 5.0       # exceedance beyond this many robust spreads
HILL_M = 100       # order statistics used by the Hill estimator (~1% of 10240)
ABS_C = 3.0        # the fixed absolute threshold, in units of s_ref
HIST_EDGES = tuple(np.round(np.linspace(-5.0, 4.0, 181), 6).tolist())  # log10(|g| / s_ref)
CHUNK = 8          # trials per cached spec: the unit xdist workers share
GROUP = 4          # trials per sample_trials call (float32: stepped one at a time, see sample_trials)
GRAD_TRIAL_FACTOR = 0.53  # a trial (sampler + statistics) / engine time of its SGD steps (see estimate_seconds)
BLOCK = 64         # samples per block of delayed updates (see sample_trials)


# -- the fast sampler ------------------------------------------------------------
def draw(trial: int, pool: int, n: int = N_SAMPLES) -> torch.Tensor:
    """Indices of trial `trial`'s samples into a pool of `pool` images."""
    g = torch.Generator().manual_seed(TRIAL_SEED_BASE + trial)
    return torch.randperm(pool, generator=g)[:n]


PACK_B = (2, 32)   # float32 batch sizes B in [2, 32) use oneDNN's prepacked linear (see _pack)
PACK_BLOCK = 256   # ... and longer blocks: fewer repacks


@functools.lru_cache(maxsize=None)
def _packing_works() -> bool:
    """oneDNN's prepacked linear exists in this build and gives the right answer
    (checked once on a small product); otherwise the sampler uses bmm."""
    try:
        if not (torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")):
            return False
        g = torch.Generator().manual_seed(0)
        W, a = torch.randn(24, 40, generator=g), torch.randn(3, 40, generator=g)
        got = _linear(a.unsqueeze(0), _pack(W, 3))[0]
        return bool(torch.allclose(got, a @ W.t(), rtol=1e-4, atol=1e-4))
    except Exception:  # noqa: BLE001 - any failure means: do not use it
        return False


def _packed_ok(dtype) -> bool:
    return dtype == torch.float32 and _packing_works()


def _pack(W, b):
    """W (out, in) prepacked by oneDNN for inputs of b rows. For a few rows
    MKL's sgemm reads W once per row (a 4-row product costs 3x a 1-row one);
    oneDNN's prepacked kernel is 2-3x faster at b = 4 to 16. Packing costs
    about 0.4 ms (plus 0.5 ms for the transposed copy), once per block."""
    return torch.ops.mkldnn._reorder_linear_weight(W.contiguous(), b)


def _linear(a, Wp):
    """a (1, b, in) @ W.T with W packed by _pack: (1, b, out)."""
    return torch.ops.mkldnn._linear_pointwise(a[0], Wp, None, "none", [], "").unsqueeze(0)


def sample_trials(start, xs, ys, batch_sizes=BATCH_SIZES, lr=LR, block=BLOCK, packed=None):
    """Run the trials stacked in xs (T, n, 784) / ys (T, n) from `start`
    ([W1, b1, W2, b2, W3, b3]). Returns {B: {reading: (T, 10, 1024) tensor}}
    for the four READINGS (drop readings equal the others when B divides n).

    Blocked ("delayed") updates: the samples are taken in blocks of about
    `block` samples (whole batches). Inside a block, the updates of the
    block's earlier steps enter as short low-rank corrections (Gram products
    over at most `block` samples); at the block's end they are folded, with one
    GEMM each, into layer 2's explicit weights (W2 | b2, per trial) and into
    the first layer's pre-activations of every later sample (P1)."""
    if packed is None:
        packed = _packed_ok(xs.dtype)
    if packed and len(xs) > 1:  # the packed path steps one trial at a time
        parts = [sample_trials(start, xs[t:t + 1], ys[t:t + 1], batch_sizes, lr, block, True) for t in range(len(xs))]
        return {B: {r: torch.cat([p[B][r] for p in parts]) for r in parts[0][B]} for B in batch_sizes}
    W1, b1, W2, b2, W3, b3 = start
    T, n, _ = xs.shape
    dt = xs.dtype
    H = W1.shape[0]
    P1 = torch.addmm(b1, xs.reshape(T * n, -1), W1.t()).reshape(T, n, H)
    G = torch.bmm(xs, xs.transpose(1, 2)).add_(1.0)  # the +1 carries the bias update
    Y = torch.zeros(T, n, W3.shape[0], dtype=dt).scatter_(2, ys.unsqueeze(2), 1.0)  # one-hot labels
    W2a = torch.cat([W2, b2.unsqueeze(1)], 1)  # (H, H + 1): the bias as a last column
    out = {}
    for B in batch_sizes:
        use_pack = packed and PACK_B[0] <= B < PACK_B[1]
        blk = max(block, PACK_BLOCK) if use_pack else block
        K = min(B * max(1, -(-blk // B)), n)  # block length in samples, whole batches
        P1c = P1.clone()                          # z1 of every sample under the folded W1
        W2c = W2a.expand(T, -1, -1).clone()       # folded [W2 | b2]
        W2v = W2c[:, :, :H]
        w3 = W3.expand(T, -1, -1).clone()
        c3 = b3.expand(T, 1, -1).clone()
        Ab = torch.ones(T, K, H + 1, dtype=dt)   # [h1, 1] of the block's samples
        Eb = torch.empty(T, K, H, dtype=dt)      # d(loss)/d(z2) of the block's samples
        Db = torch.empty(T, K, H, dtype=dt)      # d(loss)/d(z1) of the block's samples
        gsum = torch.zeros(T, *W3.shape, dtype=dt)
        repack = use_pack
        res = {}
        for i in range(0, n, B):
            e = min(i + B, n)
            b = e - i
            last = e == n
            k0 = i - i % K
            j = i - k0
            if b < B:  # the short last batch: "drop" stops before it
                res["sum-drop"], res["mean-drop"] = gsum.clone(), gsum * B / i
            ha = Ab[:, j:j + b]
            h1 = ha[:, :, :H]
            if j == 0:
                torch.clamp(P1c[:, i:e], min=0, out=h1)
            else:  # layer 1: W1 = W1_fold - lr sum_s D1_s x_s^T, so z1 = P1c - lr G[t, s] D1_s
                torch.clamp(torch.baddbmm(P1c[:, i:e], G[:, i:e, k0:i], Db[:, :j], alpha=-lr), min=0, out=h1)
            if repack:  # W2c changed (a fold) or first use: pack it for both products
                Pf, Pb = _pack(W2c[0], B), _pack(W2v[0].t(), B)
                repack = False
            z2 = _linear(ha, Pf) if use_pack else torch.bmm(ha, W2c.transpose(1, 2))
            if j > 0:  # layer 2: [W2 | b2] = W2c - lr sum_s E_s [h1_s, 1]^T
                z2.baddbmm_(torch.bmm(ha, Ab[:, :j].transpose(1, 2)), Eb[:, :j], alpha=-lr)
            h2 = z2.clamp_(min=0)
            z = torch.baddbmm(c3, h2, w3.transpose(1, 2))
            dz = torch.softmax(z, dim=2).sub_(Y[:, i:e]).div_(b)
            # (T, 10, H): this step's W3 gradient (an outer product when b = 1)
            g3 = dz.transpose(1, 2) * h2 if b == 1 else torch.bmm(dz.transpose(1, 2), h2)
            if last:
                res["sum"] = gsum + g3
                res["mean"] = (gsum * B + g3 * b) / n
                break
            gsum += g3
            dh2 = Eb[:, j:j + b]
            torch.mul(torch.bmm(dz, w3), h2 > 0, out=dh2)
            w3.sub_(g3, alpha=lr)
            c3.sub_(dz.sum(1, keepdim=True), alpha=lr)
            dh1 = _linear(dh2, Pb) if use_pack else torch.bmm(dh2, W2v)
            if j > 0:
                dh1.baddbmm_(torch.bmm(dh2, Eb[:, :j].transpose(1, 2)), Ab[:, :j, :H], alpha=-lr)
            torch.mul(dh1, h1 > 0, out=Db[:, j:j + b])
            if j + b == K:  # the block's end: fold its updates
                W2c.baddbmm_(Eb.transpose(1, 2), Ab, alpha=-lr)
                P1c[:, e:].baddbmm_(G[:, e:, k0:e], Db, alpha=-lr)
                repack = use_pack
        res.setdefault("sum-drop", res["sum"])
        res.setdefault("mean-drop", res["mean"])
        out[B] = res
    return out


# -- the naive reference loop ------------------------------------------------------
def naive_trial(start, x, y, batch_sizes=BATCH_SIZES, lr=LR):
    """One trial the plain way: an nn.Sequential loaded with the start weights,
    F.cross_entropy (batch mean), loss.backward() and torch.optim.SGD, reset for
    every batch size. Returns {B: {reading: (10, 1024) tensor}} like sample_trials."""
    import torch.nn as nn
    import torch.nn.functional as F

    dt = x.dtype
    net = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)).to(dt)
    layers = [net[0], net[2], net[4]]
    out = {}
    n = len(x)
    for B in batch_sizes:
        with torch.no_grad():
            for k, layer in enumerate(layers):
                layer.weight.copy_(start[2 * k])
                layer.bias.copy_(start[2 * k + 1])
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        gsum = torch.zeros(10, 1024, dtype=dt)
        gw = torch.zeros_like(gsum)
        res = {}
        for i in range(0, n, B):
            xb, yb = x[i:i + B], y[i:i + B]
            if len(xb) < B:
                res["sum-drop"], res["mean-drop"] = gsum.clone(), gw / i
            opt.zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            g = layers[2].weight.grad
            gsum += g
            gw += len(xb) * g
            opt.step()
        res["sum"], res["mean"] = gsum, gw / n
        res.setdefault("sum-drop", res["sum"])
        res.setdefault("mean-drop", res["mean"])
        out[B] = res
    return out


# -- per-trial statistics ------------------------------------------------------------
def tail_stats(v: torch.Tensor, k=TAIL_K, m=HILL_M, s_ref=None):
    """Scale-free tail statistics of one gradient tensor's values, zeros excluded:
    (zeros, exceedance beyond k robust spreads, excess kurtosis, Hill index)."""
    v = v.reshape(-1).double()
    nz = v[v != 0]
    zeros = v.numel() - nz.numel()
    med = nz.median()
    dev = (nz - med).abs()
    spread = 1.4826 * dev.median()
    exceed = (dev > k * spread).double().mean().item()
    c = nz - nz.mean()
    kurt = ((c ** 4).mean() / (c ** 2).mean() ** 2 - 3.0).item()
    a = nz.abs().sort(descending=True).values
    hill = (1.0 / (a[:m].log() - a[m].log()).mean()).item()
    return zeros, exceed, kurt, hill


def abs_exceed(v: torch.Tensor, threshold: float) -> float:
    """Fraction of the nonzero values whose magnitude exceeds a fixed threshold."""
    v = v.reshape(-1)
    nz = v[v != 0]
    return (nz.abs() > threshold).double().mean().item()


def log_hist(v: torch.Tensor, s_ref: float) -> torch.Tensor:
    """Counts of log10(|v| / s_ref) in HIST_EDGES bins, plus underflow and overflow
    (zeros excluded): len(HIST_EDGES) + 1 counts."""
    v = v.reshape(-1).double()
    lv = (v[v != 0].abs() / s_ref).log10()
    idx = torch.bucketize(lv, torch.tensor(HIST_EDGES, dtype=torch.float64))
    return torch.bincount(idx, minlength=len(HIST_EDGES) + 1)


# -- the cached spec ------------------------------------------------------------------
@dataclass(frozen=True)
class GradSpec:
    """Trials [first, first + count) of the gradient experiment in one regime."""
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
    # Bump when the sampler's arithmetic changes (e.g. the blocked updates of
    # version 2): float32 trajectories can then differ by more than rounding,
    # so chunks computed by another version must not be read back.
    sampler_version: int = 2
    kind: str = field(default="grad", init=False)

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
        3.3-3.6 s of calibrated steps, float32, 1 thread, 2-core AMD EPYC (Zen 5)."""
        from . import estimate
        steps = sum(math.ceil(self.n_samples / B) * estimate.step_seconds(calib, B) for B in self.batch_sizes)
        return self.count * steps * GRAD_TRIAL_FACTOR

    def compute(self, ctx):
        t0 = time.perf_counter()
        entry = ctx.results([self.start])[0]
        params = [p.to(torch.float32) for p in entry["tensors"][f"epoch{self.start_epoch}"]]
        x_tr, y_tr = training_pool(self.start, ctx)
        # s_ref: RMS of trial 0's BS1024 gradient, so every chunk shares the bins and threshold
        x0, y0 = _trial_data(x_tr, y_tr, [0], self.n_samples)
        ref = sample_trials(params, x0, y0, (self.n_samples,), self.lr)[self.n_samples]["sum"][0]
        s_ref = ref.pow(2).mean().sqrt().item()
        nb = len(self.batch_sizes)
        norms = {r: torch.zeros(self.count, nb, dtype=torch.float64) for r in READINGS}
        tails = {s: torch.zeros(self.count, nb, dtype=torch.float64) for s in ("exceed", "kurtosis", "hill")}
        zeros = torch.zeros(self.count, nb, dtype=torch.int64)
        absx = {r: torch.zeros(self.count, nb, dtype=torch.float64) for r in ("sum", "mean")}
        hist = {r: torch.zeros(nb, len(HIST_EDGES) + 1, dtype=torch.int64) for r in ("sum", "mean")}
        trials = list(range(self.first, self.first + self.count))
        t_sample = 0.0
        for g0 in range(0, self.count, self.group):
            idx = trials[g0:g0 + self.group]
            xs, ys = _trial_data(x_tr, y_tr, idx, self.n_samples)
            ts = time.perf_counter()
            out = sample_trials(params, xs, ys, self.batch_sizes, self.lr)
            t_sample += time.perf_counter() - ts
            for j, B in enumerate(self.batch_sizes):
                for r in READINGS:
                    norms[r][g0:g0 + len(idx), j] = out[B][r].flatten(1).double().norm(dim=1)
                for q in range(len(idx)):
                    z, ex, ku, hi = tail_stats(out[B]["sum"][q], self.tail_k, self.hill_m)
                    row = g0 + q
                    zeros[row, j] = z
                    tails["exceed"][row, j], tails["kurtosis"][row, j], tails["hill"][row, j] = ex, ku, hi
                    for r in ("sum", "mean"):
                        absx[r][row, j] = abs_exceed(out[B][r][q], self.abs_c * s_ref)
                        hist[r][j] += log_hist(out[B][r][q], s_ref)
        wall = time.perf_counter() - t0
        record = {
            "spec": self.describe(), "regime": self.regime, "start_epoch": self.start_epoch,
            "trials": trials, "batch_sizes": list(self.batch_sizes), "readings": list(READINGS),
            "norms": norms, "tails": tails, "zeros": zeros, "abs_exceed": absx, "hist": hist,
            "hist_edges": list(HIST_EDGES), "s_ref": s_ref, "pool": len(x_tr),
            "sampler_s": t_sample, "wall_s": wall, "trials_per_s": self.count / t_sample,
            "threads": torch.get_num_threads(),
        }
        return {"record": record, "tensors": {}}


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
def specs(scale, start: RunConfig, regimes=("early", "late"), chunk=CHUNK):
    """Every chunk of both regimes at this scale."""
    from . import protocol
    epochs = dict(zip(("early", "late"), protocol.grad_start_epochs(scale)))
    return [GradSpec(start, r, epochs[r], f, min(chunk, scale.grad_trials - f))
            for r in regimes for f in range(0, scale.grad_trials, chunk)]


def gather(records):
    """Concatenate the chunks of one regime (in trial order) into numpy arrays."""
    recs = sorted(records, key=lambda r: r["trials"][0])
    cat = lambda get: np.concatenate([get(r).numpy() for r in recs])  # noqa: E731
    return {
        "trials": sum((r["trials"] for r in recs), []),
        "batch_sizes": recs[0]["batch_sizes"],
        "norms": {k: cat(lambda r: r["norms"][k]) for k in recs[0]["norms"]},
        "tails": {k: cat(lambda r: r["tails"][k]) for k in recs[0]["tails"]},
        "zeros": cat(lambda r: r["zeros"]),
        "abs_exceed": {k: cat(lambda r: r["abs_exceed"][k]) for k in recs[0]["abs_exceed"]},
        "hist": {k: sum(r["hist"][k] for r in recs).numpy() for k in recs[0]["hist"]},
        "hist_edges": np.asarray(recs[0]["hist_edges"]), "s_ref": recs[0]["s_ref"],
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
            "sampler": f"{e['trials_per_s']:.3g} trials/s early, {l['trials_per_s']:.3g} late (per worker)"}


def benchmark(group=GROUP, naive_trials=1, batch_sizes=BATCH_SIZES, seed=0):
    """Trials per second of the fast sampler (one group of `group` trials) and of
    `naive_trial`, in this process, on random inputs (timing does not depend on
    the values). Returns {"fast": trials/s, "naive": trials/s, "ratio": ...}."""
    p = model.init_params(seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(max(group, naive_trials), N_SAMPLES, 784, generator=g)
    y = torch.randint(0, 10, (len(x), N_SAMPLES), generator=g)
    t = time.perf_counter()
    sample_trials(p, x[:group], y[:group], batch_sizes)
    fast = group / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(naive_trials):
        naive_trial(p, x[i], y[i], batch_sizes)
    naive = naive_trials / (time.perf_counter() - t)
    return {"fast": fast, "naive": naive, "ratio": fast / naive, "threads": torch.get_num_threads()}
