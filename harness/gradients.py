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
(d1_s: the batch-mean loss's gradient w.r.t. z1 of sample s), a short matrix
product over the samples seen so far instead of a 784x1024 forward plus a
rank-B update per step. Layers 2 and 3 are updated in place with fused
baddbmm calls. T trials run together as a leading batch dimension (bmm).
`naive_trial` is the plain nn.Module + autograd + optim.SGD loop that
tests/test_gradients.py checks the fast sampler against.
"""
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import data, model
from .trainer import RunConfig

BATCH_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 128, 256, 512, 1024)
N_SAMPLES = 1024
LR = 0.01
READINGS = ("sum", "mean", "sum-drop", "mean-drop")
TRIAL_SEED_BASE = 1_000_000_007
TAIL_K = 5.0       # exceedance beyond this many robust spreads
HILL_M = 100       # order statistics used by the Hill estimator (~1% of 10240)
ABS_C = 3.0        # the fixed absolute threshold, in units of s_ref
HIST_EDGES = tuple(np.round(np.linspace(-5.0, 4.0, 181), 6).tolist())  # log10(|g| / s_ref)
CHUNK = 8          # trials per cached spec: the unit xdist workers share
GROUP = 4          # trials stepped together (leading bmm dimension)


# -- the fast sampler ------------------------------------------------------------
def draw(trial: int, pool: int, n: int = N_SAMPLES) -> torch.Tensor:
    """Indices of trial `trial`'s samples into a pool of `pool` images."""
    g = torch.Generator().manual_seed(TRIAL_SEED_BASE + trial)
    return torch.randperm(pool, generator=g)[:n]


def sample_trials(start, xs, ys, batch_sizes=BATCH_SIZES, lr=LR):
    """Run the trials stacked in xs (T, n, 784) / ys (T, n) from `start`
    ([W1, b1, W2, b2, W3, b3]). Returns {B: {reading: (T, 10, 1024) tensor}}
    for the four READINGS (drop readings equal the others when B divides n)."""
    W1, b1, W2, b2, W3, b3 = start
    T, n, _ = xs.shape
    dt = xs.dtype
    H = W1.shape[0]
    P1 = torch.addmm(b1, xs.reshape(T * n, -1), W1.t()).reshape(T, n, H)
    G = torch.bmm(xs, xs.transpose(1, 2)).add_(1.0)  # the +1 carries the bias update
    A = torch.empty(T, n, H, dtype=dt)    # h1 of each sample seen (layer 2's input)
    E = torch.empty(T, n, H, dtype=dt)    # lr * d(loss)/d(z2) of each sample seen
    D1 = torch.empty(T, n, H, dtype=dt)   # lr * d(loss)/d(z1) of each sample seen
    W2t = W2.t().contiguous()
    rows = torch.arange(T).unsqueeze(1)
    out = {}
    for B in batch_sizes:
        w3 = W3.expand(T, -1, -1).clone()
        c3 = b3.expand(T, 1, -1).clone()
        gsum = torch.zeros(T, *W3.shape, dtype=dt)
        gw = torch.zeros_like(gsum)
        starts = list(range(0, n, B))
        res = {}
        for j, i in enumerate(starts):
            e = min(i + B, n)
            b = e - i
            last = j == len(starts) - 1
            if b < B:  # the short last batch: "drop" stops before it
                res["sum-drop"], res["mean-drop"] = gsum.clone(), gw / i
            # layer 1: W1 = W1_0 - sum_s D1_s x_s^T, so z1 = P1 - G[t, s] D1_s
            if i == 0:
                h1 = P1[:, :e].clamp(min=0)
            else:
                h1 = torch.baddbmm(P1[:, i:e], G[:, i:e, :i], D1[:, :i], alpha=-1.0).clamp_(min=0)
            # layer 2: W2 = W2_0 - sum_s E_s A_s^T (shared W2_0: one GEMM for all T trials)
            z2 = torch.addmm(b2, h1.reshape(T * b, H), W2t).reshape(T, b, H)
            if i > 0:
                ga = torch.bmm(h1, A[:, :i].transpose(1, 2)).add_(1.0)
                z2.baddbmm_(ga, E[:, :i], alpha=-1.0)
            h2 = z2.clamp_(min=0)
            z = torch.baddbmm(c3, h2, w3.transpose(1, 2))
            dz = torch.softmax(z, dim=2)
            dz[rows, torch.arange(b).unsqueeze(0), ys[:, i:e]] -= 1.0
            dz.div_(b)
            g3 = torch.bmm(dz.transpose(1, 2), h2)  # (T, 10, H): this step's W3 gradient
            gsum += g3
            gw.add_(g3, alpha=b)
            if last:
                break
            dh2 = torch.bmm(dz, w3).mul_(h2 > 0)
            w3.sub_(g3, alpha=lr)
            c3.sub_(dz.sum(1, keepdim=True), alpha=lr)
            dh1 = torch.mm(dh2.reshape(T * b, H), W2).reshape(T, b, H)
            if i > 0:
                gd = torch.bmm(dh2, E[:, :i].transpose(1, 2))
                dh1.baddbmm_(gd, A[:, :i], alpha=-1.0)
            dh1.mul_(h1 > 0)
            A[:, i:e] = h1
            torch.mul(dh2, lr, out=E[:, i:e])
            torch.mul(dh1, lr, out=D1[:, i:e])
        res["sum"], res["mean"] = gsum, gw / n
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
    kind: str = field(default="grad", init=False)

    def describe(self) -> str:
        return (f"gradients {self.regime} (epoch {self.start_epoch} of BS1024 seed{self.start.seed}) "
                f"trials {self.first}..{self.first + self.count - 1}")

    def cost(self) -> float:
        """Samples processed (~15 x 1024 per trial), comparable with RunConfig.cost."""
        return self.count * len(self.batch_sizes) * self.n_samples * 1.3

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
    return {"start": f"BS1024 lr 0.01 seed{ctx.seeds[0]}, epochs {e['start_epoch']} (early) / {l['start_epoch']} (late)",
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
