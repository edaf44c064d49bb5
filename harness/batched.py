"""Seeds trained together (--batched-seeds): the seeds of one schedule as one
batched model.

The runs of one config that differ only in seed share every phase, batch size
and learning rate, so their steps line up: here their parameters are stacked
along a leading seed dimension, W of shape (S, out, in), and a step is the
engine's step (harness/engine.py) with each matrix product a batched one
(torch.baddbmm / bmm: one call for the S seeds). Each seed keeps what makes it
that seed in a single run: its init (model.init_params(seed)) and its shuffle
stream (a generator seeded seed + 7919, drawn through trainer._epoch_batches
as trainer.train draws it), so a batched seed follows its single run's
trajectory up to floating-point reassociation (a batched GEMM sums in another
order than addmm; tests/test_batched.py bounds the drift). Every seed's
history is recorded as trainer.train records it, from the same functions:
engine.evaluate and geometry.snapshot on the seed's slice of the stack. A seed
that diverges stops there, as its single run would, and leaves the stack;
the others go on.

Its own numerics: a batched seed's numbers are not a single run's bits, so
its RunConfig says so (batched_seeds=True, a key-neutral field) and its key
carries the "batched" numerics version (harness/numerics.py) beside the
training one. Published records of single runs are therefore not read under
--batched-seeds, and batched records never answer a plain session.

The grouping (`prefetch`): the session's missing batched runs, grouped by
config less seed; each group's cache locks are taken (a member another
process holds is left to it), the group trains in this process, and each
seed's entry is written (atomically, as every entry) when the group ends.
The seeds of a group share one schedule and so end together: an interrupted
group has no finished seed to lose, and earlier groups' entries are on disk.
"""
import dataclasses
import time

import torch

from . import engine, model
from .errors import ConfigError
from .trainer import RunConfig, _epoch_batches, log_epoch, splits

_relu_grad = engine._relu_grad


# -- the batched step: engine.py's, over a leading seed dimension -------------
def forward(params, x):
    """Logits and hidden activations of S seeds; x is (S, B, 784)."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = torch.baddbmm(b1.unsqueeze(1), x, W1.transpose(1, 2)).relu_()
    h2 = torch.baddbmm(b2.unsqueeze(1), h1, W2.transpose(1, 2)).relu_()
    return torch.baddbmm(b3.unsqueeze(1), h2, W3.transpose(1, 2)), h1, h2


def _dlogits(z, y, scale):
    """(softmax - onehot) * scale per seed and sample; y is (S, B)."""
    p = torch.softmax(z, dim=2)
    flat = p.view(-1, p.shape[-1])
    flat[torch.arange(y.numel(), device=y.device), y.reshape(-1)] -= 1.0
    return p.mul_(scale)


def grads(params, x, y):
    """Each seed's gradients of its batch-mean loss, stacked: [W1, b1, W2, b2, W3, b3]."""
    W1, b1, W2, b2, W3, b3 = params
    z, h1, h2 = forward(params, x)
    dz = _dlogits(z, y, 1.0 / y.shape[1])
    dh2 = _relu_grad(torch.bmm(dz, W3), h2, 0)
    dh1 = _relu_grad(torch.bmm(dh2, W2), h1, 0)
    return [torch.bmm(dh1.transpose(1, 2), x), dh1.sum(1), torch.bmm(dh2.transpose(1, 2), h1), dh2.sum(1),
            torch.bmm(dz.transpose(1, 2), h2), dz.sum(1)]


def sgd_step(params, x, y, lr: float):
    """engine.sgd_step for S seeds at once: each weight gradient fused into its
    update (baddbmm_), each layer's input gradient taken before its weights move."""
    W1, b1, W2, b2, W3, b3 = params
    z, h1, h2 = forward(params, x)
    dz = _dlogits(z, y, 1.0 / y.shape[1])
    dh2 = _relu_grad(torch.bmm(dz, W3), h2, 0)
    W3.baddbmm_(dz.transpose(1, 2), h2, alpha=-lr)
    b3.sub_(dz.sum(1), alpha=lr)
    dh1 = _relu_grad(torch.bmm(dh2, W2), h1, 0)
    W2.baddbmm_(dh2.transpose(1, 2), h1, alpha=-lr)
    b2.sub_(dh2.sum(1), alpha=lr)
    W1.baddbmm_(dh1.transpose(1, 2), x, alpha=-lr)
    b1.sub_(dh1.sum(1), alpha=lr)


class Adam(engine.Adam):
    """engine.Adam's update (elementwise, so the same per seed) on stacked
    parameters, from batched gradients."""

    def gradients(self, x, y):
        return grads(self.params, x, y)

    def keep(self, params, rows):
        """Go on with the seeds in rows (the others diverged): their params and moments."""
        self.params = params
        self.m = [m[rows] for m in self.m]
        self.v = [v[rows] for v in self.v]


# -- one group's training -------------------------------------------------------
def check_group(cfgs):
    """The runs of a group must differ in seed alone, each seed once."""
    rest = {dataclasses.replace(c, seed=0) for c in cfgs}
    seeds = [c.seed for c in cfgs]
    if len(rest) != 1 or len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds trained together must share their config and differ in seed: got "
                          f"{[c.describe() for c in cfgs]}")


def train_group(cfgs, device: str, data_root, cache_root, progress=None, download=False):
    """Train the runs cfgs (one config, several seeds) together. Returns one
    (record, tensors) per run, in order, shaped as trainer.train's."""
    check_group(cfgs)
    t0 = time.perf_counter()
    cfg = cfgs[0]
    (x_tr, y_tr), *evals = splits(cfg, device, data_root, cache_root, download)
    starts = [model.init_params(c.seed, c.init, device=device) for c in cfgs]
    params = [torch.stack([s[k] for s in starts]) for k in range(len(starts[0]))]
    init = [p.clone() for p in params]
    gens = [torch.Generator().manual_seed(c.seed + 7919) for c in cfgs]  # shuffling, independent of init
    adam = Adam(params, cfg.phases[0].lr) if cfg.optimizer == "adam" else None
    hists = [{k: [] for k in ("epoch", "step", "batch_size", "lr", "train_loss", "train_acc", "test_loss",
                              "test_acc", "w_dist", "b_dist", "w_norm", "b_norm", "w_norm_layers", "cos")}
             for _ in cfgs]
    tensors = [{} for _ in cfgs]
    diverged = [None] * len(cfgs)
    live = list(range(len(cfgs)))  # the seeds still training, in stack order
    step = 0

    def log(epoch, bs, lr, do_eval):
        """Log every live seed; False for each that has diverged."""
        return [log_epoch(hists[i], tensors[i], cfg, [p[r] for p in params], [p[r] for p in init], evals,
                     epoch, step, bs, lr, do_eval) for r, i in enumerate(live)]

    def drop(ok, epoch):
        """The seeds that diverged stop here, as their single runs would, and leave the stack."""
        nonlocal params, init, live
        rows = [r for r, good in enumerate(ok) if good]
        for r, good in enumerate(ok):
            if not good:
                diverged[live[r]] = epoch
        index = torch.tensor(rows, dtype=torch.long, device=params[0].device)
        params = [p[index] for p in params]
        init = [p[index] for p in init]
        live = [live[r] for r in rows]
        if adam is not None:
            adam.keep(params, index)

    log(0, 0, 0.0, True)  # as in trainer.train, the start never stops a run: epoch 1 is where it is judged
    epoch = 0
    for phase in cfg.phases:
        if adam is not None:
            adam.lr = phase.lr
        for e in range(phase.epochs):
            epoch += 1
            batches = zip(*[_epoch_batches(len(x_tr), phase.batch_size, cfg.drop_last, gens[i], device)
                            for i in live])
            for idx in batches:
                idx = torch.stack(idx)  # (S, B): each seed's own batch; one epoch's batches have equal sizes
                if adam is None:
                    sgd_step(params, x_tr[idx], y_tr[idx], phase.lr)
                else:
                    adam.step(x_tr[idx], y_tr[idx])
                step += 1
            last = e == phase.epochs - 1
            ok = log(epoch, phase.batch_size, phase.lr, last or epoch % cfg.eval_every == 0)
            if not all(ok):
                drop(ok, epoch)
            if progress:
                progress(epoch, cfg.epochs, [hists[i]["test_acc"][-1] for i in live], time.perf_counter() - t0)
            if not live:
                break
        if not live:
            break

    wall = time.perf_counter() - t0
    return [({"config": c.fields(), "history": hists[i], "diverged_at": diverged[i],
              "steps": hists[i]["step"][-1], "wall_s": wall / len(cfgs), "device": str(device),
              "threads": torch.get_num_threads()}, tensors[i]) for i, c in enumerate(cfgs)]


# -- the session's side: specs, entries, groups ---------------------------------------
def mark(spec):
    """spec with every run in it trained batched (a GradSpec's start run
    included): the runs --batched-seeds reads and trains."""
    if isinstance(spec, RunConfig):
        return spec if spec.batched_seeds else dataclasses.replace(spec, batched_seeds=True)
    if not dataclasses.is_dataclass(spec) or isinstance(spec, type):
        return spec
    changed = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.init and mark(value) is not value:
            changed[f.name] = mark(value)
    return dataclasses.replace(spec, **changed) if changed else spec


def group_of(spec):
    """What the runs trained together share: the config less its seed."""
    return dataclasses.replace(spec, seed=0)


def compute(specs, ctx) -> list[dict]:
    """Train specs (one batched config, several seeds) together in this process;
    one cache entry per spec, with its provenance (RunConfig.compute's, plus
    the group it trained in)."""
    t0 = time.perf_counter()
    desc = specs[0].describe().replace(f" seed{specs[0].seed}", "")
    seeds = [s.seed for s in specs]
    last = [t0]
    ctx.say(f"[{ctx.worker}] training {desc} seeds {seeds} together ({specs[0].epochs} epochs)")

    def progress(epoch, total, accs, elapsed):
        now = time.perf_counter()
        if ctx.verbose_progress and (epoch == total or epoch % max(1, total // 10) == 0 or now - last[0] >= 30):
            last[0] = now
            acc = ", ".join("-" if a != a else f"{a:.4f}" for a in accs)
            ctx.say(f"[{ctx.worker}] {desc} seeds {seeds}: epoch {epoch}/{total}, test acc {acc}, {elapsed:.0f}s, "
                    f"~{elapsed / epoch * (total - epoch):.0f}s left")

    out = train_group(list(specs), ctx.device, ctx.data_root, ctx.cache_root, progress, ctx.download)
    wall = time.perf_counter() - t0
    entries = []
    for spec, (record, tensors) in zip(specs, out):
        record["provenance"] = spec.provenance_for(ctx) | {"batched": {"seeds": seeds, "group_wall_s": wall}}
        record["wall_s"] = record["provenance"]["wall_s"] = wall / len(specs)  # the group's time, shared out
        if record["diverged_at"]:
            ctx.say(f"[{ctx.worker}] {spec.describe()}: DIVERGED at epoch {record['diverged_at']} (loss or "
                    f"weights NaN/inf); recorded as diverged, its seed left the batch")
        entries.append({"record": record, "tensors": tensors})
    return entries


def groups(specs) -> list[list]:
    """The batched runs among specs, grouped by config less seed, in the given order."""
    out: dict = {}
    for s in specs:
        if isinstance(s, RunConfig) and s.batched_seeds:
            out.setdefault(group_of(s), []).append(s)
    return list(out.values())


def prefetch(ctx, specs):
    """Train every group of missing batched runs together, each seed's entry
    stored when its group ends. A run another process is computing (its lock
    is held) is left to it; ctx.prefetch's executor waits for it afterwards."""
    cache = ctx.cache
    for group in groups(specs):
        locks, todo = {}, []
        try:
            for s in group:
                k = ctx.key(s)
                if cache.find(k) is not None:
                    continue
                lock = cache.claim(k)
                if lock is None:
                    continue  # another process trains it
                locks[k] = lock
                if cache.find(k) is None:  # it may have finished while we looked
                    todo.append(s)
            if todo:
                for s, entry in zip(todo, compute(todo, ctx)):
                    k, _, desc, info = ctx.job(s)
                    cache.store(k, entry, desc, info, entry["record"]["wall_s"])
        finally:
            for lock in locks.values():
                lock.release()
