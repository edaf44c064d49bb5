"""The executor seam: where a session computes the runs it still misses.

An executor's `submit(spec, ctx)` returns a Future of a `Computed`: the cache
entry and the fingerprint of the process that computed it. Backends:

- InProcess (`--executor in-process`, the default): computes in this process.
  Under xdist each worker is such a process, and the run cache's locks share
  one list of runs among them (RunCache.ensure): today's behaviour.
- RayExecutor (`--executor ray`, harness/ray_executor.py, imported only when
  chosen): Ray Core tasks on a local instance or a cluster.

A remote backend's runs go through `collect`: this one process (the driver)
submits every missing spec whose inputs are in its local cache (spec.needs():
a gradient chunk reads its start run's weights, which go with the task),
writes each entry with the cache's atomic write as it arrives, and submits
what that entry unblocks. Ctrl-C, or a lost worker, loses no finished run: it
is on disk, and a rerun resumes from it. The driver takes each run's cache
lock while the run is out, so another session on the same cache (in-process
or remote) never trains it twice.
"""
import concurrent.futures as cf
import time
from dataclasses import dataclass

from .errors import HarnessError

EXECUTORS = ("in-process", "ray")


@dataclass
class Computed:
    """What an executor hands back for one spec."""
    entry: dict         # {"record": ..., "tensors": ...}: what the run cache stores
    fingerprint: dict   # device, device_name, threads, torch of the process that computed it
    host: str
    wall_s: float       # compute time in that process; the rest of a round trip is the executor's


def make(options):
    """The executor that --executor names."""
    if options.executor == "ray":
        from .ray_executor import RayExecutor  # imports ray: only when chosen
        return RayExecutor(options.device, options.runs_per_gpu)
    return InProcess()


class InProcess:
    """Computes a spec in this process, when asked."""
    name = "in-process"

    def submit(self, spec, ctx) -> cf.Future:
        """The Future is done when this returns; an error (Ctrl-C included) propagates from here."""
        import platform
        t0 = time.perf_counter()
        entry = spec.compute(ctx)
        fut = cf.Future()
        fut.set_result(Computed(entry, ctx.fingerprint, platform.node(), time.perf_counter() - t0))
        return fut

    def prefetch(self, ctx, specs):
        """Compute each spec nobody holds, in order, sharing the list with the
        xdist workers that prefetch it too (RunCache.ensure)."""
        ctx.cache.ensure([ctx.job(s) for s in specs])

    def close(self):
        pass


def starts_from(ctx, spec) -> tuple:
    """(run, k): spec starts from run's parameters after epoch k (Context.start_for), or (None, 0)."""
    return ctx.start_for(spec) if getattr(spec, "kind", None) == "train" else (None, 0)


def inputs(ctx, spec) -> list:
    """The entries computing spec reads: its needs (a gradient chunk's start run)
    and the run it starts from, if any."""
    start = starts_from(ctx, spec)[0]
    return [*spec.needs(), *([start] if start is not None else [])]


def collect(ctx, specs, executor):
    """Compute the missing specs (given largest first) on a remote executor, from this process."""
    cache, key = ctx.cache, ctx.key
    missing = [s for s in specs if cache.find(key(s)) is None]
    # what a missing spec reads must be a local entry (weights): a published record has none
    needs = {key(n): n for s in missing for n in inputs(ctx, s)}
    have = {k for k in needs if cache.find(k, local_only=True) is not None}
    todo = list({key(s): s for s in [*needs.values(), *missing] if key(s) not in have}.values())  # needs first
    if not todo:
        return
    ready = lambda s: all(key(n) in have for n in inputs(ctx, s))  # noqa: E731
    running, locks, total, t0 = {}, {}, len(todo), time.perf_counter()
    ctx.say(f"[{executor.name}] {total} run(s) to compute on {executor.describe()}")
    try:
        while todo or running:
            for s in [s for s in todo if ready(s)]:
                k = key(s)
                lock = cache.claim(k)
                if lock is None:
                    continue  # another process is computing it: waited for when nothing else is left
                todo.remove(s)
                if cache.find(k, local_only=k in needs) is not None:  # it finished one meanwhile
                    lock.release()
                    have.add(k)
                    continue
                locks[k] = lock
                running[executor.submit(s, ctx)] = s
            if running:
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for f in finished:
                    s = running.pop(f)
                    k, _, desc, info = ctx.job(s)
                    c = f.result()
                    cache.store(k, c.entry, desc, info, c.wall_s)
                    locks.pop(k).release()
                    have.add(k)
                    fp = c.fingerprint
                    ctx.say(f"[{executor.name}] {desc}: done in {c.wall_s:.1f} s on {c.host} ({fp['device_name']}, "
                            f"{fp['threads']} thread(s)); {total - len(todo) - len(running)}/{total} "
                            f"after {time.perf_counter() - t0:.0f} s")
            elif todo:  # every spec left is out in another process: wait for one (or compute it if that died)
                s = next((s for s in todo if ready(s)), todo[0])
                todo.remove(s)
                k, _, desc, info = ctx.job(s)
                cache.get(k, lambda s=s: executor.submit(s, ctx).result().entry, desc, info, local_only=k in needs)
                have.add(k)
    finally:
        if running:
            executor.cancel(list(running))
        for lock in locks.values():
            lock.release()


def check_no_xdist(executor: str, workers: int):
    """A remote executor is driven by one process: refuse xdist workers, each of which would submit every run."""
    if executor != "in-process" and workers:
        raise HarnessError(f"--executor {executor} submits every run from one process; with -n each of the "
                           f"{workers} xdist workers would submit the whole list: drop -n "
                           f"({executor} spreads the runs over its workers)")
