"""The session context a claim gets: scale, seeds, device, the run cache and
the one way to obtain results, `ctx.results(specs)`. A spec is a frozen
dataclass with `describe()` and `cost()`: a RunConfig (trained by
`compute_run`) or any other spec type with a `compute(ctx)` method (the
gradient experiment's). Its hash keys the cache."""
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import provenance, trainer
from .cache import RunCache, spec_key


def compute_run(cfg: trainer.RunConfig, ctx: "Context"):
    """Train one RunConfig and return its cache entry."""
    t0 = time.perf_counter()
    desc = cfg.describe()

    def progress(epoch, total, acc, elapsed):
        if ctx.verbose_progress and (epoch == total or epoch % max(1, total // 10) == 0):
            left = elapsed / epoch * (total - epoch)
            acc_s = f"test acc {acc:.4f}" if acc == acc else "test acc -"
            ctx.say(f"[{ctx.worker}] {desc}: epoch {epoch}/{total}, {acc_s}, {elapsed:.0f}s, ~{left:.0f}s left")

    record, tensors = trainer.train(cfg, ctx.device, ctx.data_root, ctx.cache_root, progress, ctx.download)
    record["provenance"] = provenance.collect(ctx.device) | {"seed": cfg.seed, "scale": ctx.scale.name}
    record["wall_s"] = time.perf_counter() - t0
    if record["diverged_at"]:
        ctx.say(f"[{ctx.worker}] {desc}: DIVERGED at epoch {record['diverged_at']} (loss not finite)")
    return {"record": record, "tensors": tensors}


@dataclass
class Context:
    scale: "object"
    seeds: list[int]
    device: str
    data_root: str | None
    cache_root: Path
    report_dir: Path
    refresh_since: float | None = None
    events_path: Path | None = None
    download: bool = False
    verbose_progress: bool = True
    worker: str = field(default_factory=lambda: os.environ.get("PYTEST_XDIST_WORKER", "main"))

    def __post_init__(self):
        self.cache = RunCache(self.cache_root, self.refresh_since, events=self._event)

    def say(self, msg):
        # Under xdist a worker's stdout is captured; its real stderr reaches the terminal.
        print(msg, file=sys.__stderr__, flush=True)

    def _event(self, **kw):
        if self.events_path is None:
            return
        kw |= {"worker": self.worker, "time": time.time()}
        with open(self.events_path, "a") as f:  # one short line per write: appends do not interleave
            f.write(json.dumps(kw) + "\n")

    @property
    def device_kind(self):
        return torch.device(self.device).type

    def key(self, spec):
        return spec_key(spec, self.device_kind)

    def _job(self, spec):
        compute = compute_run if isinstance(spec, trainer.RunConfig) else type(spec).compute
        return (self.key(spec), lambda: compute(spec, self), spec.describe())

    def prefetch(self, specs):
        """Compute every missing spec, largest first, sharing the work with
        any other process that prefetches the same list."""
        uniq = {self.key(s): s for s in specs}
        order = sorted(uniq.values(), key=lambda s: (getattr(s, "kind", "") != "train", -s.cost()))
        self.cache.ensure([self._job(s) for s in order])

    def results(self, specs):
        """The cache entries of specs, in order, computing what is missing."""
        specs = list(specs)
        self.prefetch(specs)
        return [self.cache.get(*self._job(s)) for s in specs]

    def records(self, specs):
        return [e["record"] for e in self.results(specs)]
