"""Sharpness: the top eigenvalue lambda_max of the Hessian of the training
loss at given weights, from Hessian-vector products (L3).

The loss is the suite's: the MLP of harness/engine.py (`forward`, read only)
and the batch-mean cross-entropy the trainer minimises, on a fixed subset of
the run's own training set (`eval_points`). A Hessian-vector product is the
gradient of <grad L, v> (double backward through torch.autograd), so the
Hessian (1.9M x 1.9M for the post's MLP) is never formed.

Method: Lanczos, a fixed number of products from a seeded random vector
(fixed cost, reproducible), with full reorthogonalisation; lambda_max is the
largest Ritz value, which approaches the largest (algebraic, not absolute)
eigenvalue from below. Why not plain power iteration: the top of a
cross-entropy Hessian is a cluster of outliers (about one per class) whose
ratios are close to 1, so the power iterate creeps. Measured on a quick-scale
BS1024 run's final weights, 1000 points: after 20 products power iteration
still moved by 0.3% a product and stood at 36.6; Lanczos reached 37.95 (to 4
digits, the same from three start vectors) by the 15th. Cohen et al. (2021)
measure sharpness by Lanczos too (their code calls scipy's eigsh).

Convergence check, independent of the recurrence: one more product gives the
true residual r = H y - theta y of the top Ritz pair (theta, y), |y| = 1. Some
eigenvalue of H lies within |r| of theta (a bound that holds for any
symmetric matrix and any unit vector), so |r| / |theta| < tol certifies the
value. `top_eigenvalue` reports the check; the caller decides what an
estimate that failed it is worth.
"""
import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F

from . import data, engine, estimate, provenance
from .trainer import RunConfig

START_SEED = 20170915  # the start vector's generator (any fixed value: the estimate must not depend on it)
STEPS = 20             # Lanczos products: converged (residual < 1e-4) by ~15 on the post's MLP, 1000-2000 points
HVP_STEP_FACTOR = 1.9  # a Hessian-vector product's time per sample / an SGD step's (measured, 1 thread, Xeon)


def mlp_loss(params, x, y):
    """Mean cross-entropy of the suite's MLP (harness/engine.py forward) on (x, y)."""
    z, _, _ = engine.forward(params, x)
    return F.cross_entropy(z, y)


def loss_hvp(params, x, y, loss=mlp_loss):
    """v -> H v on flat vectors, H the Hessian of loss(params, x, y) w.r.t.
    params (a list of tensors, flattened and concatenated in order)."""
    ps = [p.detach().clone().requires_grad_(True) for p in params]
    grads = torch.autograd.grad(loss(ps, x, y), ps, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])

    def hvp(v):
        hv = torch.autograd.grad(flat_grad @ v, ps, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).detach()
    return hvp


def top_eigenvalue(hvp, dim, steps=20, tol=1e-2, seed=START_SEED, dtype=torch.float32, device="cpu") -> dict:
    """Lanczos with full reorthogonalisation: `steps` products v -> H v (H
    symmetric, dim x dim), then one more for the residual check. Returns
    {"lambda": top Ritz value, "history": the top Ritz value after each
    product, "residual": |H y - lambda y| / |lambda|, "converged": residual <
    tol, "products": products taken}."""
    if steps < 2:
        raise ValueError(f"Lanczos needs at least 2 products, got {steps}")
    steps = min(steps, dim)
    g = torch.Generator().manual_seed(seed)
    Q = torch.zeros(steps, dim, dtype=dtype, device=device)  # the Lanczos basis, one row per product
    q = torch.randn(dim, generator=g, dtype=dtype).to(device)
    Q[0] = q / q.norm()
    alpha, beta, history = [], [], []
    for j in range(steps):
        w = hvp(Q[j])
        alpha.append(float(Q[j] @ w))
        for _ in range(2):  # full reorthogonalisation, twice ("twice is enough" in floating point)
            w -= Q[:j + 1].T @ (Q[:j + 1] @ w)
        history.append(float(_ritz(alpha, beta)[0][-1]))
        b = float(w.norm())
        if j == steps - 1 or b <= 1e-12 * max(abs(a) for a in alpha):
            break  # the last product, or an invariant subspace: T's eigenvalues are H's
        beta.append(b)
        Q[j + 1] = w / b
    theta, s = _ritz(alpha, beta)
    k = len(alpha)
    y = s[:, -1].to(dtype=dtype, device=device) @ Q[:k]
    y /= y.norm()
    lam = float(theta[-1])
    residual = float((hvp(y) - lam * y).norm()) / max(abs(lam), 1e-30)
    return {"lambda": lam, "history": history, "residual": residual, "converged": residual < tol,
            "products": k + 1}


def _ritz(alpha, beta):
    """Eigenvalues (ascending) and eigenvectors of the Lanczos tridiagonal matrix."""
    k = len(alpha)
    T = torch.diag(torch.tensor(alpha, dtype=torch.float64))
    if k > 1:
        off = torch.tensor(beta[:k - 1], dtype=torch.float64)
        T += torch.diag(off, 1) + torch.diag(off, -1)
    return torch.linalg.eigh(T)


def eval_points(cfg, data_root, cache_root, n, device="cpu", download=False):
    """n images (and labels) of the run's own training set (the scale's subset
    at quick scale, drawn as the trainer draws it), picked by a fixed
    permutation: the same points for every run of a data set and scale."""
    root = data.resolve_root(cfg.dataset, data_root, cache_root, download)
    ds = data.load(cfg.dataset, cfg.scaling, device, str(root), download)
    x, y = ds.x_train, ds.y_train
    sub = data.fixed_subset(len(x), cfg.train_subset, salt=0)  # the trainer's training subset (salt 0)
    if sub is not None:
        x, y = x[sub.to(device)], y[sub.to(device)]
    pick = data.fixed_subset(len(x), n, salt=3)  # salts 0-2 are the trainer's subsets
    return (x, y) if pick is None else (x[pick.to(device)], y[pick.to(device)])


def with_final_weights(run: RunConfig) -> RunConfig:
    """The run, keeping its parameters after its last epoch as well (a run
    that keeps them already is returned as it is, sharing its cache entry)."""
    if run.epochs in run.snapshots:
        return run
    return dataclasses.replace(run, snapshots=tuple(sorted(run.snapshots + (run.epochs,))))


def sharpness(params, x, y, steps=STEPS, tol=1e-2) -> dict:
    """top_eigenvalue of the MLP's training loss at params, on (x, y)."""
    params = [p.to(x.device, torch.float32) for p in params]
    return top_eigenvalue(loss_hvp(params, x, y), sum(p.numel() for p in params), steps, tol, device=x.device)


# -- the cached spec ------------------------------------------------------------------
@dataclass(frozen=True)
class SharpnessSpec:
    """lambda_max of the training loss at one snapshot of a run, on `points`
    fixed training points (a spec, harness/spec.py)."""
    run: RunConfig              # keeps its parameters at `epoch` (RunConfig.snapshots)
    epoch: int
    points: int                 # evaluation subset of the run's training set (eval_points)
    steps: int = STEPS
    start_seed: int = START_SEED
    kind: str = field(default="sharpness", init=False)
    # The code whose version keys this entry (harness/numerics.py): the run's training and this module.
    numerics: ClassVar[tuple[str, ...]] = ("train", "sharpness")

    def __post_init__(self):
        if self.epoch not in self.run.snapshots:
            raise ValueError(f"{self.run.describe()} keeps no parameters at epoch {self.epoch} "
                             f"(snapshots {self.run.snapshots}): add it to the run's snapshots")

    def describe(self) -> str:
        return f"sharpness at epoch {self.epoch} of {self.run.describe()}, {self.points} points"

    def cost(self) -> float:
        """Samples processed, comparable with RunConfig.cost (a product ~2 SGD steps' work a sample)."""
        return (self.steps + 1) * self.points * HVP_STEP_FACTOR

    def estimate_seconds(self, calib) -> float:
        return (self.steps + 1) * estimate.step_seconds(calib, self.points) * HVP_STEP_FACTOR

    def needs(self) -> tuple:
        """The run: compute reads its snapshot weights."""
        return (self.run,)

    def compute(self, ctx):
        t0 = time.perf_counter()
        entry = ctx.results([self.run], need_tensors=True)[0]
        ctx.say(f"[{ctx.worker}] measuring {self.describe()}")
        diverged = self.run.diverged_at(entry)
        record = {"spec": self.describe(), "epoch": self.epoch, "diverged_at": diverged}
        if diverged is not None and diverged <= self.epoch:  # no finite weights to measure
            record |= {"lambda": math.nan, "history": [], "residual": math.nan, "products": 0, "loss": math.nan,
                       "points": self.points}
        else:
            params = [p.to(ctx.device, torch.float32) for p in entry["tensors"][f"epoch{self.epoch}"]]
            x, y = eval_points(self.run, ctx.data_root, ctx.cache_root, self.points, ctx.device, ctx.download)
            out = top_eigenvalue(loss_hvp(params, x, y), sum(p.numel() for p in params), self.steps,
                                 seed=self.start_seed, device=x.device)
            with torch.no_grad():
                loss = float(mlp_loss(params, x, y))
            record |= {k: out[k] for k in ("lambda", "history", "residual", "products")} | {
                "loss": loss, "points": len(x)}
        wall = time.perf_counter() - t0
        record |= {"wall_s": wall, "provenance": provenance.collect(ctx.device) | {
            "fingerprint": ctx.fingerprint, "cache_key": ctx.key(self), "wall_s": wall,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}}
        return {"record": record, "tensors": {}}

    def summary(self, record) -> dict:
        return {"lambda": record["lambda"]}

    def diverged_at(self, entry) -> int | None:
        """The run's divergence epoch, when it came before the snapshot (lambda is then NaN)."""
        at = entry["record"]["diverged_at"]
        return at if at is not None and at <= self.epoch else None
