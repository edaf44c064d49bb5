"""`--executor ray`: the runs a session misses, as Ray Core tasks
(harness/executor.py's seam; harness/worker.py is what each task runs).

Ray starts on the first run to compute, never in a session the cache already
answers. It joins the cluster that RAY_ADDRESS names, or else starts a local
instance on this machine for the session, so one command serves a laptop and
a cluster. Everything a task needs travels through Ray's object store, put once
per session: each data set's four idx files (written once per node, see
worker.node_data) and each entry a spec reads (a gradient chunk's start run,
weights included). Entries come back the same way, to the driver, which
writes them into its run cache: workers need no shared file system.

Resources: a CPU run takes 1 CPU and trains with 1 intra-op thread (the
suite's MLP steps scale poorly over threads: one run a core trains the most
runs an hour, as `-n auto` does). A CUDA run takes 1/runs_per_gpu of a GPU,
so that several small runs share one, and 1 CPU to drive it.
"""
import os

import ray

from . import data, worker
from .executor import inputs, starts_from
from .cache import key_fields, spec_key
from .errors import HarnessError

THREADS_PER_RUN = 1


@ray.remote(max_retries=3)  # a lost worker (node down, killed): Ray reruns the task; a raised error is final
def _task(spec, scale, device, threads, versions, data_roots, need_keys, start, *need_entries):
    roots = {name: worker.node_data(name, lambda ref=holder[0]: ray.get(ref)) for name, holder in data_roots.items()}
    root = next(iter(roots.values()), None)  # every data set sits under the same node folder
    return worker.compute(spec, scale, device, threads, versions, root, dict(zip(need_keys, need_entries)), start)


def datasets(spec) -> set:
    """The data sets a spec reads: every `dataset` field in it, nested specs (a chunk's start run) included."""
    def walk(x):
        if isinstance(x, dict):
            return {v for k, v in x.items() if k == "dataset"} | {d for v in x.values() for d in walk(v)}
        if isinstance(x, list):
            return {d for v in x for d in walk(v)}
        return set()
    return walk(key_fields(spec))


class RayExecutor:
    name = "ray"

    def __init__(self, device: str, runs_per_gpu: int = 1):
        self.device = "cuda" if device.startswith("cuda") else "cpu"  # Ray picks the GPU (CUDA_VISIBLE_DEVICES)
        self.runs_per_gpu = runs_per_gpu
        self.started_here = False  # a local instance this session started: shut down at its end
        self.task = None
        self.puts = {}   # what went into the object store once: ("data", name) or ("entry", key) -> ref
        self.refs = {}   # Future -> ObjectRef, to cancel

    def resources(self) -> dict:
        if self.device == "cuda":
            return {"num_cpus": 1, "num_gpus": 1 / self.runs_per_gpu}
        return {"num_cpus": THREADS_PER_RUN}

    def start(self):
        if self.task is not None:
            return
        if not ray.is_initialized():
            self.started_here = True
            # "local": a private instance for this session, never a cluster some earlier `ray start` left running
            ray.init(address=os.environ.get("RAY_ADDRESS") or "local", include_dashboard=False, log_to_driver=False)
        gpus = ray.cluster_resources().get("GPU", 0)
        if self.device == "cuda" and not gpus:
            raise HarnessError(f"--device cuda but the Ray cluster has no GPU ({self.where()}): pass --device cpu, "
                               f"or start the worker nodes on GPU machines (ray start --address=...)")
        self.task = _task.options(**self.resources())

    def where(self) -> str:
        r = ray.cluster_resources()
        place = f"cluster {os.environ['RAY_ADDRESS']}" if os.environ.get("RAY_ADDRESS") else "a local instance"
        return f"{place}, {r.get('CPU', 0):g} CPUs, {r.get('GPU', 0):g} GPUs"

    def describe(self) -> str:
        self.start()
        each = ", ".join(f"{k.removeprefix('num_')} {v:g}" for k, v in self.resources().items())
        return f"Ray ({self.where()}; each run takes {each}, {THREADS_PER_RUN} thread)"

    def _put(self, what, make):
        if what not in self.puts:
            self.puts[what] = ray.put(make())
        return self.puts[what]

    def _data(self, ctx, name):
        def files():
            raw = data.resolve_root(name, ctx.data_root, ctx.cache_root, ctx.download) / data.FOLDERS[name] / "raw"
            return {f: (raw / f).read_bytes() for f in data.FILES}
        return [self._put(("data", name), files)]  # in a list: a task fetches it only if its node lacks the files

    def _entry(self, ctx, spec):
        k = ctx.key(spec)
        return self._put(("entry", k), lambda: ctx.cache.find(k, local_only=True))

    def submit(self, spec, ctx):
        self.start()
        start = starts_from(ctx, spec)
        needs = inputs(ctx, spec)
        ref = self.task.remote(spec, ctx.scale, self.device, THREADS_PER_RUN, worker.versions(spec),
                               {name: self._data(ctx, name) for name in sorted(datasets(spec))},
                               # keyed as the worker looks them up (WorkerContext.key), whatever serves them here
                               [spec_key(n) for n in needs], start, *[self._entry(ctx, n) for n in needs])
        fut = ref.future()
        self.refs[fut] = ref
        fut.add_done_callback(lambda f: self.refs.pop(f, None))  # a held ref would pin its result in the store
        return fut

    def prefetch(self, ctx, specs):
        from .executor import collect
        collect(ctx, specs, self)

    def cancel(self, futures):
        """Stop runs still out (Ctrl-C, an error): what finished is already in the cache."""
        for f in futures:
            try:
                ray.cancel(self.refs.pop(f), force=True)
            except Exception:  # the instance may be going down with us (Ctrl-C reaches its processes too)
                pass

    def close(self):
        if self.started_here and ray.is_initialized():
            ray.shutdown()
