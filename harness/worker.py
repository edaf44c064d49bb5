"""The remote side of an executor (harness/executor.py): what a worker on
another process or node runs for one spec, with no run cache and no shared
file system.

spec.compute(ctx) runs unchanged (the numerics stay as they are) against a
WorkerContext: it holds what compute reads from a session context (scale,
device, data root, the entries the spec needs). The data set arrives through
the object store and is written once per node into a local folder, where
harness/data.py reads (and md5-checks) it as from any data root. A spec's
needs (a gradient chunk's start run, weights included) arrive with its task.
"""
import functools
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import atomic, data, numerics, provenance
from .cache import spec_key
from .errors import DataError, HarnessError
from .executor import Computed

NODE_DIR = Path(tempfile.gettempdir()) / "bsc-worker"  # per node: every worker process there shares it


@dataclass
class WorkerContext:
    """What spec.compute reads from its context, on a worker."""
    scale: object
    device: str
    data_root: str
    needs: dict                        # cache key -> entry, for the specs this one reads
    start: tuple = (None, 0)           # (run, k): the driver's Context.start_for; run's entry is in needs
    cache_root: Path = NODE_DIR / "unpacked"  # only for data.resolve_root's signature: the data root is complete
    download: bool = False
    verbose_progress: bool = False     # per-epoch lines: the driver logs each run as it arrives instead
    worker: str = field(default_factory=lambda: f"{platform.node()}:{os.getpid()}")

    def say(self, msg):
        print(msg, file=sys.stderr, flush=True)  # the worker's own log

    @property
    def fingerprint(self) -> dict:
        return provenance.fingerprint(self.device)

    def key(self, spec) -> str:
        return spec_key(spec)

    def start_for(self, spec):
        return self.start

    def results(self, specs, need_tensors=False):
        missing = [s.describe() for s in specs if self.key(s) not in self.needs]
        if missing:
            raise HarnessError(f"{', '.join(missing)} did not come with the task: a spec reads through "
                               f"ctx.results only what its needs() declares; add it there")
        return [self.needs[self.key(s)] for s in specs]

    def records(self, specs):
        return [e["record"] for e in self.results(specs)]


def versions(spec) -> dict:
    """{group: (version, source hash)} of the numerics code that computes spec (harness/numerics.py)."""
    return {g: (numerics.version(g), _source_hash(g)) for g in getattr(spec, "numerics", ())}


@functools.lru_cache(maxsize=None)
def _source_hash(group):
    return numerics.source_hash(group)


def node_data(name: str, fetch) -> str:
    """The data root holding dataset `name` on this node; fetch() -> {file name:
    bytes-like} is called only when the node lacks sound files (the first task)."""
    root = NODE_DIR / "data"
    try:
        return str(data.resolve_root(name, root, NODE_DIR / "unpacked"))  # md5-checked once per process
    except DataError:
        pass
    raw = root / data.FOLDERS[name] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f, blob in fetch().items():  # atomic: workers of one node writing together agree
        atomic.write_bytes(raw / f, memoryview(blob))
    return str(data.resolve_root(name, root, NODE_DIR / "unpacked"))


def compute(spec, scale, device, threads, driver_versions, data_root, needs, start=(None, 0)) -> Computed:
    """Compute one spec here, with `threads` intra-op threads, after checking
    that this node runs the driver's numerics code (else its record would sit
    under a key that claims other code)."""
    import torch
    here = versions(spec)
    if here != driver_versions:
        raise HarnessError(f"worker {platform.node()} runs other numerics code than the driver (here {here}, "
                           f"driver {driver_versions}): install the driver's commit on every node "
                           f"(pip install -e '.[ray]')")
    torch.set_num_threads(threads)
    ctx = WorkerContext(scale, device, data_root, needs, start=start)
    t0 = time.perf_counter()
    entry = spec.compute(ctx)
    return Computed(entry, ctx.fingerprint, platform.node(), time.perf_counter() - t0)
