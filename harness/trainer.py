"""A run, declared as data (RunConfig), and the loop that trains it.

A RunConfig describes a run completely: the cache key is its hash. It is a
spec (harness/spec.py): RunConfig.compute trains it for the session context.
Batches come from a seeded per-epoch permutation of device-resident tensors;
there is no DataLoader and no per-sample Python. Each epoch records accuracy
and loss (train and test) and the geometry the post tracks (distance from
init, norms, per-layer cosines).
"""
import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar

import torch

from . import data, engine, estimate, geometry, model, provenance
from .errors import ConfigError

OPTIMIZERS = ("sgd", "adam")
ADAM_COST_FACTOR = 1.6  # an Adam step's time / an SGD step's (cost() and estimate_seconds())
PROGRESS_EVERY_S = 30.0  # a long epoch still reports at least this often (one line per epoch at most)


@dataclass(frozen=True)
class Phase:
    """A stretch of training with one batch size and one learning rate."""
    epochs: int
    batch_size: int
    lr: float

    def __post_init__(self):
        if not (isinstance(self.batch_size, int) and self.batch_size > 0):
            raise ConfigError(f"batch size must be a positive integer, got {self.batch_size!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"learning rate must be a positive number, got {self.lr!r}")
        if not (isinstance(self.epochs, int) and self.epochs > 0):
            raise ConfigError(f"epochs must be a positive integer, got {self.epochs!r}")


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a training run's numbers. Protocol choices the
    post leaves open (init, input scaling, last-batch handling) are fields,
    recorded with every run and varied by the claims that need them."""
    phases: tuple[Phase, ...]
    seed: int = 0
    optimizer: str = "sgd"
    dataset: str = "mnist"
    init: str = "glorot"            # "glorot" (Keras default, matches the post) | "torch"
    scaling: str = "standard"       # "standard" (mean/std of the train set: the post's protocol) | "x255"
    drop_last: bool = False         # keep the short last batch, like DataLoader's default
    train_subset: int | None = None  # a fixed random subset of the 60k (quick scale)
    test_subset: int | None = None   # a fixed random subset of the 10k test images
    train_eval_subset: int | None = 10000  # train accuracy measured on a fixed subset
    eval_every: int = 1              # evaluate every k epochs (and at each phase's end)
    snapshots: tuple[int, ...] = ()  # epochs after which to keep the parameters
    batched_seeds: bool = False      # trained with the other seeds of its config as one model (harness/batched.py)
    kind: str = field(default="train", init=False)
    # Fields added after records were published, with the value that reproduces
    # the behaviour from before they existed: a spec holding that value keys as
    # if the field did not exist (cache.spec_key), so the records stay readable.
    key_neutral: ClassVar[dict] = {"batched_seeds": False}

    @property
    def numerics(self) -> tuple[str, ...]:
        """The code whose version keys the run (harness/numerics.py)."""
        return ("train", "batched") if self.batched_seeds else ("train",)

    def __post_init__(self):
        if not self.phases:
            raise ConfigError("a run needs at least one phase")
        object.__setattr__(self, "phases", tuple(self.phases))
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}: choose one of {OPTIMIZERS}")
        if self.dataset not in data.FOLDERS:
            raise ConfigError(f"unknown dataset {self.dataset!r}: choose one of {sorted(data.FOLDERS)}")
        if self.init not in model.INITS:
            raise ConfigError(f"unknown init {self.init!r}: choose one of {model.INITS}")
        if self.scaling not in data.SCALINGS:
            raise ConfigError(f"unknown input scaling {self.scaling!r}: choose one of {data.SCALINGS}")
        for n in (self.train_subset, self.test_subset, self.train_eval_subset):
            if n is not None and n <= 0:
                raise ConfigError(f"subset sizes must be positive or None, got {n}")
        if self.eval_every < 1:
            raise ConfigError(f"eval_every must be >= 1, got {self.eval_every}")
        bad = [e for e in self.snapshots if not 0 <= e <= self.epochs]
        if bad:
            raise ConfigError(f"snapshot epochs {bad} lie outside the run's {self.epochs} epochs")

    @property
    def epochs(self) -> int:
        return sum(p.epochs for p in self.phases)

    def describe(self) -> str:
        sched = " then ".join(f"BS{p.batch_size} lr{p.lr:g} x{p.epochs}" for p in self.phases)
        extra = "" if (self.init, self.scaling) == ("glorot", "standard") else f" [{self.init}, {self.scaling}]"
        return f"{self.optimizer} {sched} seed{self.seed}{extra}"

    def _optimizer_factor(self) -> float:
        return ADAM_COST_FACTOR if self.optimizer == "adam" else 1.0

    def cost(self) -> float:
        """Samples processed, a proxy for time used to order work (largest first)."""
        n = self.train_subset or 60000
        return n * self.epochs * self._optimizer_factor()

    def estimate_seconds(self, calib) -> float:
        """Training steps and evaluations, timed by the engine's calibration."""
        n = self.train_subset or 60000
        t = sum(p.epochs * math.ceil(n / p.batch_size) * estimate.step_seconds(calib, p.batch_size)
                for p in self.phases)
        evals = self.epochs / self.eval_every * ((self.test_subset or 10000) + (self.train_eval_subset or n))
        t += evals * estimate.step_seconds(calib, 1024) / 1024 / 3  # a forward pass is ~1/3 of a step
        return t * self._optimizer_factor()

    def needs(self) -> tuple:
        """A run starts from its init: it reads no other entry."""
        return ()

    def compute(self, ctx):
        """Train this run and return its cache entry, with progress lines and provenance."""
        if self.batched_seeds:  # a batched seed on its own: a group of one (harness/batched.py)
            from . import batched
            return batched.compute([self], ctx)[0]
        # a run whose first epochs another run of the session trains starts from
        # that run's last snapshot (Context.plan): the same numbers, fewer epochs
        prefix, k = ctx.start_for(self) if hasattr(ctx, "start_for") else (None, 0)
        start = ctx.results([prefix], need_tensors=True)[0] if prefix is not None else None
        if start is not None and start["record"]["diverged_at"] is not None:
            start = None
        t0 = time.perf_counter()  # after the prefix: its wall time is in its own record
        desc = self.describe()
        last = [t0]
        ctx.say(f"[{ctx.worker}] training {desc} ({self.epochs} epochs)")
        if start is not None:
            ctx.say(f"[{ctx.worker}] {desc}: epochs 1-{k} are those of {prefix.describe()}: "
                    f"resuming from its epoch {k}")

        def progress(epoch, total, acc, elapsed, first=0):
            now = time.perf_counter()
            if ctx.verbose_progress and (epoch == total or epoch % max(1, total // 10) == 0
                                         or now - last[0] >= PROGRESS_EVERY_S):
                last[0] = now
                left = elapsed / (epoch - first) * (total - epoch)
                acc_s = f"test acc {acc:.4f}" if acc == acc else "test acc -"
                ctx.say(f"[{ctx.worker}] {desc}: epoch {epoch}/{total}, {acc_s}, {elapsed:.0f}s, ~{left:.0f}s left")

        record, tensors = train(self, ctx.device, ctx.data_root, ctx.cache_root, progress, ctx.download,
                                start=start and (start, k))
        record["provenance"] = self.provenance_for(ctx)
        if start is not None:
            record["provenance"]["resumed_from"] = {"run": prefix.describe(), "epoch": k,
                                                    "cache_key": ctx.key(prefix)}
        record["wall_s"] = time.perf_counter() - t0
        record["provenance"]["wall_s"] = record["wall_s"]
        if record["diverged_at"]:
            ctx.say(f"[{ctx.worker}] {desc}: DIVERGED at epoch {record['diverged_at']} (loss or weights NaN/inf); "
                    f"recorded as diverged, training stopped")
        return {"record": record, "tensors": tensors}

    def provenance_for(self, ctx) -> dict:
        """Where, when and by what this run's entry was computed, under which key."""
        return provenance.collect(ctx.device) | {
            "seed": self.seed, "scale": ctx.scale.name, "scale_protocol": _scale_fields(ctx.scale),
            "protocol": self.fields(), "cache_key": ctx.key(self), "fingerprint": ctx.fingerprint, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}

    def diverged_at(self, entry) -> int | None:
        return entry["record"]["diverged_at"]

    def summary(self, record) -> dict:
        """A few final numbers, to compare two machines' records of this run."""
        return {k: final(record, k) for k in ("test_acc", "train_loss", "w_dist", "w_norm")}

    def fields(self) -> dict:
        """The protocol as plain data; a field at its key-neutral value is left
        out, so that records read as they did before the field existed."""
        from .cache import key_neutral
        neutral = key_neutral(type(self))
        return {k: v for k, v in asdict(self).items() if not (k in neutral and v == neutral[k])}


def _scale_fields(scale) -> dict:
    try:
        return asdict(scale)
    except TypeError:
        return {"name": getattr(scale, "name", str(scale))}


def _epoch_batches(n, bs, drop_last, gen, device):
    perm = torch.randperm(n, generator=gen).to(device)
    stop = n - n % bs if drop_last else n
    return [perm[i:i + bs] for i in range(0, stop, bs)]


def splits(cfg: RunConfig, device: str, data_root, cache_root, download=False):
    """(train, eval-on-train, test) pairs (x, y) of a run: its data set and
    scaling, cut to the scale's fixed subsets."""
    root = data.resolve_root(cfg.dataset, data_root, cache_root, download)
    ds = data.load(cfg.dataset, cfg.scaling, device, str(root), download)
    x_tr, y_tr = ds.x_train, ds.y_train
    sub = data.fixed_subset(len(x_tr), cfg.train_subset, salt=0)
    if sub is not None:
        x_tr, y_tr = x_tr[sub.to(device)], y_tr[sub.to(device)]
    tsub = data.fixed_subset(len(ds.x_test), cfg.test_subset, salt=1)
    x_te, y_te = (ds.x_test, ds.y_test) if tsub is None else (ds.x_test[tsub.to(device)], ds.y_test[tsub.to(device)])
    esub = data.fixed_subset(len(x_tr), cfg.train_eval_subset, salt=2)
    x_ev, y_ev = (x_tr, y_tr) if esub is None else (x_tr[esub.to(device)], y_tr[esub.to(device)])
    return (x_tr, y_tr), (x_ev, y_ev), (x_te, y_te)


def log_epoch(hist, tensors, cfg, params, init, evals, epoch, step, bs, lr, do_eval):
    """Append one epoch to a run's history (and its snapshot when due); False
    when the run has diverged: a parameter (hence a distance) or an evaluated
    loss is NaN or inf. evals: the (x, y) pairs evaluated on train and test."""
    (x_ev, y_ev), (x_te, y_te) = evals
    g = geometry.snapshot(params, init)
    finite = all(math.isfinite(g[k]) for k in ("w_dist", "b_dist", "w_norm", "b_norm"))
    do_eval = do_eval or not finite  # a diverged epoch is always evaluated: no stale accuracy
    tr = engine.evaluate(params, x_ev, y_ev) if do_eval else (math.nan, math.nan)
    te = engine.evaluate(params, x_te, y_te) if do_eval else (math.nan, math.nan)
    for k, v in (("epoch", epoch), ("step", step), ("batch_size", bs), ("lr", lr),
                 ("train_loss", tr[0]), ("train_acc", tr[1]), ("test_loss", te[0]), ("test_acc", te[1])):
        hist[k].append(v)
    for k, v in g.items():
        hist[k].append(v)
    if epoch in cfg.snapshots:
        tensors[f"epoch{epoch}"] = [p.detach().cpu().clone() for p in params]
    return finite and (not do_eval or (math.isfinite(tr[0]) and math.isfinite(te[0])))


def train(cfg: RunConfig, device: str, data_root, cache_root, progress=None, download=False, start=None):
    """Train one run. Returns (record, tensors): the record is plain data
    (history per epoch, final values, divergence), tensors holds snapshots.
    start: (entry, k) of a run whose first k epochs are this one's (shared_epochs),
    with its parameters after epoch k: this run takes its history up to k and
    trains on from there; the shuffles of the first k epochs are drawn again
    (not used) so that every later epoch sees the order it would have."""
    t0 = time.perf_counter()
    (x_tr, y_tr), (x_ev, y_ev), (x_te, y_te) = splits(cfg, device, data_root, cache_root, download)

    params = model.init_params(cfg.seed, cfg.init, device=device)
    init = [p.clone() for p in params]
    gen = torch.Generator().manual_seed(cfg.seed + 7919)  # shuffling, independent of init
    adam = engine.Adam(params, cfg.phases[0].lr) if cfg.optimizer == "adam" else None

    hist: dict[str, list] = {k: [] for k in (
        "epoch", "step", "batch_size", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
        "w_dist", "b_dist", "w_norm", "b_norm", "w_norm_layers", "cos")}
    tensors, diverged_at, step = {}, None, 0

    def log(epoch, bs, lr, do_eval):
        return log_epoch(hist, tensors, cfg, params, init, ((x_ev, y_ev), (x_te, y_te)), epoch, step, bs, lr, do_eval)

    done = 0
    if start is None:
        log(0, 0, 0.0, True)
    else:
        done, step = _resume(cfg, hist, tensors, params, *start)
    epoch = 0
    with engine.denormals_flushed(adam is not None):  # Adam meets denormals; SGD is left as it was
        for phase in cfg.phases:
            if adam is not None:
                adam.lr = phase.lr
            for e in range(phase.epochs):
                epoch += 1
                batches = _epoch_batches(len(x_tr), phase.batch_size, cfg.drop_last, gen, device)
                if epoch <= done:
                    continue
                for idx in batches:
                    if adam is None:
                        engine.sgd_step(params, x_tr[idx], y_tr[idx], phase.lr)
                    else:
                        adam.step(x_tr[idx], y_tr[idx])
                    step += 1
                last = e == phase.epochs - 1
                ok = log(epoch, phase.batch_size, phase.lr, last or epoch % cfg.eval_every == 0)
                if progress:
                    progress(epoch, cfg.epochs, hist["test_acc"][-1], time.perf_counter() - t0, done)
                if not ok:
                    diverged_at = epoch
                    break
            if diverged_at:
                break

    record = {
        "config": cfg.fields(),
        "history": hist,
        "diverged_at": diverged_at,
        "steps": step,
        "wall_s": time.perf_counter() - t0,
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    return record, tensors


EVAL_COLUMNS = ("train_loss", "train_acc", "test_loss", "test_acc")


def eval_epochs(cfg: RunConfig) -> set[int]:
    """The epochs a run evaluates while it does not diverge: the start, every
    eval_every-th epoch and each phase's last."""
    out, epoch = {0}, 0
    for p in cfg.phases:
        for e in range(p.epochs):
            epoch += 1
            if e == p.epochs - 1 or epoch % cfg.eval_every == 0:
                out.add(epoch)
    return out


def _per_epoch(cfg: RunConfig) -> list[tuple[int, float]]:
    return [(p.batch_size, p.lr) for p in cfg.phases for _ in range(p.epochs)]


def shared_epochs(run: RunConfig, other: RunConfig) -> int:
    """How many first epochs of run are other's too, so that run can start from
    other's parameters after them with the same numbers (0: none): the same
    protocol and seed, SGD (Adam's moments are not kept), the same batch size
    and lr epoch by epoch, and other evaluated (and kept the parameters of)
    every one of those epochs that run evaluates (keeps). other may be longer
    (F2's BS64 lr 0.1 run holds the first 7 epochs of L4's schedules at quick
    scale) or shorter (F1's 15 epochs start F9's 240); never all of run."""
    if run.optimizer != "sgd" or other.optimizer != "sgd":
        return 0
    if replace(run, phases=other.phases, eval_every=1, snapshots=()) != replace(other, eval_every=1, snapshots=()):
        return 0
    a, b = _per_epoch(run), _per_epoch(other)
    k = 0
    while k < min(len(a) - 1, len(b)) and a[k] == b[k]:
        k += 1
    want = {e for e in eval_epochs(run) if e <= k}
    while k and not (want <= eval_epochs(other) and {e for e in run.snapshots if e <= k} <= set(other.snapshots) | {k}):
        k -= 1  # a shorter stretch may still do
        want = {e for e in eval_epochs(run) if e <= k}
    return k


def _resume(cfg, hist, tensors, params, entry, k):
    """Fill hist, tensors and params from the entry of a run sharing the first k epochs (shared_epochs)
    after its epoch k; returns (k, steps taken)."""
    rec, want = entry["record"], eval_epochs(cfg)
    for key in hist:
        hist[key] = list(rec["history"][key][:k + 1])
    for i, epoch in enumerate(hist["epoch"]):
        if epoch not in want:  # this run would not have evaluated there
            for key in EVAL_COLUMNS:
                hist[key][i] = math.nan
    for e in cfg.snapshots:
        if e <= k:
            tensors[f"epoch{e}"] = [t.clone() for t in entry["tensors"][f"epoch{e}"]]
    with torch.no_grad():
        for p, t in zip(params, entry["tensors"][f"epoch{k}"]):
            p.copy_(t)
    return k, hist["step"][-1]


def final(record, key):
    """The last evaluated value of a history column (eval may skip epochs)."""
    vals = [v for v in record["history"][key] if not (isinstance(v, float) and math.isnan(v))]
    return vals[-1] if vals else math.nan


def series(records, key):
    """(epochs, values[seed, epoch]) of a history column over runs of one config."""
    x = records[0]["history"]["epoch"]
    n = min(len(r["history"][key]) for r in records)  # a diverged run stops early
    return x[:n], [r["history"][key][:n] for r in records]


def percent(records, key) -> list[float]:
    """The final value of an accuracy column over runs (seeds), in points."""
    return [100 * final(r, key) for r in records]
