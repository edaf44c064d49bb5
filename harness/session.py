"""The pytest session as the suite sees it: one object, stored on pytest's
config by the plugin, that owns what the session computes once (options,
worker and thread counts, provenance, the runs the collected claims need) and
what it gathers (the records the report is written from).

Roles: without xdist one process does everything; with xdist the workers
collect, train and judge, and the controller gathers the records and writes
the report once at the end.
"""
import functools
import json
import os
import time
import uuid
from dataclasses import asdict

from . import options as opts
from .errors import HarnessError


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def worker_count(config) -> int:
    """xdist workers in this session (0 without xdist), as any process sees it."""
    if is_worker(config):
        return int(config.workerinput.get("workercount", os.environ.get("PYTEST_XDIST_WORKER_COUNT", 1)))
    n = getattr(config.option, "numprocesses", None)
    if n in ("auto", "logical"):
        return os.cpu_count() or 1
    try:
        return int(n or 0)
    except (TypeError, ValueError):
        return 0


def threads_per_worker(workers: int) -> int | None:
    """cores / workers intra-op threads each, so that workers never oversubscribe
    the CPU; None (torch's default) without xdist."""
    return max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None


class Session:
    def __init__(self, config):
        self.config = config
        self.worker = is_worker(config)
        self.worker_id = config.workerinput["workerid"] if self.worker else None  # "gw0", ...
        self.options = opts.parse(config.option, verify_data=not self.worker)
        if self.options.data_root and os.environ.get("BSC_DATA_ROOT"):
            # made absolute once: subprocesses (and tests) that start elsewhere see the same folder
            os.environ["BSC_DATA_ROOT"] = self.options.data_root
        self.workers = worker_count(config)
        from . import executor
        executor.check_no_xdist(self.options.executor, self.workers)
        self.executor = executor.make(self.options)  # Ray, if chosen, starts on the first run to compute
        self.threads = threads_per_worker(self.workers)
        if not self.worker:  # shared with xdist workers, which inherit the environment
            os.environ["BSC_SESSION"] = uuid.uuid4().hex[:12]
            os.environ["BSC_SESSION_START"] = repr(time.time())
        self.id = os.environ.get("BSC_SESSION", "nosession")
        self.start = float(os.environ.get("BSC_SESSION_START", time.time()))
        self.t0 = time.time()
        self.records: list[dict] = []   # controller: every record the claims handed over
        self.specs: list = []           # every run the collected claims need
        self.read_by: dict = {}         # controller: finding -> keys of the entries its readings read
        self.summary = None
        self.report_path = None
        if self.threads:
            import torch
            torch.set_num_threads(self.threads)
        # The commit of the code that runs, read now: edits or commits made while
        # a long session trains must not relabel its report.
        from . import provenance
        self.commit = provenance.git_commit()

    @functools.cached_property
    def provenance(self) -> dict:
        from . import provenance
        return provenance.collect(self.options.device) | {"commit": self.commit}

    @property
    def events_path(self):
        return self.options.cache / "events" / f"{self.id}.jsonl"

    def thread_note(self) -> str:
        if self.options.executor == "ray":
            from .ray_executor import THREADS_PER_RUN
            return f"{THREADS_PER_RUN} per run (Ray tasks)"
        return (f"{self.threads} per worker x {self.workers} workers" if self.threads
                else str(self.provenance["threads"]))

    # -- the context claims use ---------------------------------------------------
    def context(self, out):
        from .context import Context
        o = self.options
        self.events_path.parent.mkdir(parents=True, exist_ok=True)
        return Context(o.scale, list(o.seeds), o.device, o.data_root, o.cache, o.report_dir,
                       refresh_since=self.start if o.refresh else None, events_path=self.events_path,
                       download=o.download, out=out, progress_log=o.report_dir / "progress.log",
                       max_epochs=o.max_epochs, worker=self.worker_id or "main",
                       published=o.records, publish=o.publish, exact=o.exact,
                       no_train=o.no_train, executor=self.executor, batched_seeds=o.batched_seeds)

    # -- collection: the runs every selected reading needs ---------------------------
    def announce_estimate(self):
        """Before a paper-scale CPU session, say how long the missing runs will take
        (from a ~2 s calibration), once: on the only process, or on worker gw0."""
        o = self.options
        if o.scale.name != "paper" or not o.device.startswith("cpu") or not self.specs or o.no_train:
            return
        if self.worker_id not in (None, "gw0"):  # said once: by the only process, or by worker gw0
            return
        import sys

        from . import estimate
        ctx = self.context(None)
        ctx.plan(self.specs)
        uniq = {ctx.key(s): ctx.resolve(s) for s in self.specs}
        missing = [s for k, s in uniq.items() if not ctx.cache.has(k)]
        if not missing:
            return
        workers = max(1, self.workers)
        calib = estimate.calibrate(o.device)
        # a run that starts from another's epochs (Context.plan) trains only the rest
        left = lambda s: 1 - ctx.start_for(s)[1] / s.epochs if getattr(s, "kind", None) == "train" else 1  # noqa: E731
        total = sum(estimate.seconds(s, calib) * left(s) for s in missing)
        where = (f"{estimate.describe(total)} of one core's time, shared among the runs Ray trains at once"
                 if o.executor == "ray" else f"{estimate.describe(total / workers)} with {workers} worker(s)")
        print(f"\nbatch-size-claims: paper scale, {len(missing)} of {len(uniq)} runs to compute "
              f"({len(uniq) - len(missing)} cached). Estimated {where} on this machine "
              f"(calibrated: BS64 step {calib[64] * 1e3:.1f} ms, "
              f"BS1024 step {calib[1024] * 1e3:.1f} ms). Use --quick for the {os.cpu_count()}-core CI scale.",
              file=sys.__stderr__, flush=True)

    # -- the controller's end of session ----------------------------------------------
    def _events(self):
        path = self.events_path
        if not path.exists():
            return []
        out = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        path.unlink(missing_ok=True)
        return out

    def finish(self, interrupted: bool):
        from . import report
        o = self.options
        ev = self._events()
        computed = {e["key"]: e for e in ev if e["event"] == "computed"}
        cached = {e["key"]: e for e in ev if e["event"] == "cached" and e["key"] not in computed}
        corrupt = [e["error"] for e in ev if e["event"] == "corrupt"]
        diverged = sorted({(e["desc"], e["diverged_at"]) for e in list(computed.values()) + list(cached.values())
                           if e.get("diverged_at")})
        published = sorted(e["desc"] for e in cached.values() if e.get("source") == "published")
        self.summary = {"trained": sorted(e["desc"] for e in computed.values()),
                        "cached": sorted(e["desc"] for e in cached.values()), "published": published,
                        "corrupt": corrupt, "diverged": diverged, "interrupted": interrupted}
        if not self.records:
            return
        origins = _origins(computed, cached)
        self.summary["cost"] = cost = _cost_by_finding(self.read_by, computed, cached)
        compared = [{"run": e["desc"], "local machine": e.get("local_machine"), "max |diff|": e["max_abs_diff"]}
                    for e in ev if e["event"] == "compared"]
        wall = time.time() - self.t0
        prov = self.provenance | {
            "threads": self.thread_note(), "scale": o.scale.name, "scale protocol": json.dumps(asdict(o.scale)),
            "seeds": f"{len(o.seeds)} ({', '.join(map(str, o.seeds))})",
            "runs trained / from cache": f"{len(computed)} / {len(cached)}",
            "runs from published records": (f"{len(published)} ({', '.join(map(str, o.records))})" if published
                                            else "none"),
            **({"seeds trained together": "yes (--batched-seeds: batched numerics, harness/batched.py)"}
               if o.batched_seeds else {}),
            "diverged runs": "; ".join(f"{d} at epoch {at}" for d, at in diverged) or "none",
            "corrupt cache entries recomputed": len(corrupt), "session wall time": f"{wall:.0f} s"}
        header = {
            "scale": o.scale.name, "scale_note": scale_note(o.scale), "dataset": o.scale.dataset,
            "seeds": len(o.seeds), "device": o.device,
            "device_name": prov["device_name"], "threads": self.thread_note(), "provenance": prov,
            "computed": len(computed), "cached": len(cached), "trained": self.summary["trained"],
            "from_published": published, "origins": origins, "compared": compared, "cost": cost,
            "from_cache": self.summary["cached"], "diverged": [{"run": d, "epoch": at} for d, at in diverged],
            "corrupt": corrupt, "wall_s": wall, "date": report.now(),
        }
        self.report_path = report.write(o.report_dir, self.records, header)

    def terminal_summary(self, tr):
        s = self.summary
        if s and (s["trained"] or s["cached"] or s["corrupt"]):
            self._runs_summary(tr, s)
        if s and s["interrupted"]:
            # said whatever the lists above hold: an interrupt can land after a run's entry is
            # written and before its "computed" line is logged
            tr.write_line("interrupted: every run this session finished is in the cache; "
                          "rerun the same command to resume", yellow=True)
        if self.report_path:
            tr.write_line(f"verdict report: {self.report_path}")

    def _runs_summary(self, tr, s):
        tr.write_sep("-", f"batch-size-claims: {len(s['trained'])} runs trained, {len(s['cached'])} read from cache "
                          f"({len(s['published'])} of them from published records)")
        limit = 40  # a paper-scale session needs ~100 runs: the report's JSON lists them all
        for what, runs in (("trained", s["trained"]), ("from cache", s["cached"])):
            for d in runs[:limit]:
                tr.write_line(f"  {what}: {d}")
            if len(runs) > limit:
                tr.write_line(f"  ... and {len(runs) - limit} more {what} (see verdicts.json)")
        if s.get("cost"):
            tr.write_line("  compute by finding, core-minutes (each entry's own wall time; an entry several "
                          "findings read counts for each): " + ", ".join(
                              f"{r['finding'].split(' ')[0]} {r['core_s'] / 60:.1f}" for r in s["cost"]))
        for d, at in s["diverged"]:
            tr.write_line(f"  DIVERGED: {d} at epoch {at} (loss or weights NaN/inf)", yellow=True)
        for err in s["corrupt"]:
            tr.write_line(f"  corrupt cache entry recomputed: {err}", yellow=True)

    def header_lines(self):
        o, p = self.options, self.provenance
        return [f"batch-size-claims {p['package']} (commit {p['commit']}): scale {o.scale.name}, data set "
                f"{o.scale.dataset}, seeds {len(o.seeds)}, "
                f"device {o.device} ({p['device_name']}), torch {p['torch']}, torchvision {p['torchvision']}, "
                f"numpy {p['numpy']}",
                f"cache {o.cache}; report {o.report_dir} (progress also in {o.report_dir / 'progress.log'}); "
                f"data root {o.data_root or '(none: only cached runs can be read)'}"]


def _origins(computed, cached):
    """Runs by where they came from (trained now, local cache, published records) and by machine."""
    rows = {}
    for events, how in ((computed.values(), "trained this session"), (cached.values(), None)):
        for e in events:
            source = how or ("published record" if e.get("source") == "published" else "local cache")
            row = rows.setdefault((source, e.get("machine", "?")), {"runs": 0, "compute_h": 0.0})
            row["runs"] += 1
            row["compute_h"] += (e.get("run_wall_s") or 0.0) / 3600
    return [{"source": s, "machine": m, **v} for (s, m), v in sorted(rows.items())]


def _cost_by_finding(read_by, computed, cached) -> list[dict]:
    """Each finding's compute: the own wall time (on its machine) of every entry its
    readings read, and of those these were computed from. A run several findings
    read counts for each, so the rows add up to more than the session's total."""
    events = cached | computed
    wall = lambda k: events[k].get("run_wall_s") or events[k].get("wall_s") or 0.0  # noqa: E731
    rows = []
    for finding, keys in read_by.items():
        known = [k for k in keys if k in events]
        rows.append({"finding": finding, "entries": len(known), "core_s": sum(wall(k) for k in known),
                     "trained_core_s": sum(wall(k) for k in known if k in computed)})
    rows.sort(key=lambda r: _finding_order(r["finding"]))
    return rows + [{"finding": "all (each entry once)", "entries": len(events),
                    "core_s": sum(wall(k) for k in events), "trained_core_s": sum(wall(k) for k in computed)}]


def _finding_order(name: str):
    """F1..F12, then L1..L5, then anything else (the fidelity table) by name."""
    head, num = name[:1], name[1:]
    return ("FL".index(head), int(num), "") if head in ("F", "L") and num.isdigit() else (2, 0, name)


def scale_note(scale):
    name = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}.get(scale.dataset, scale.dataset)
    if scale.name == "paper":
        return f"the post's protocol: full 60k/10k {name}, its epochs, 1000 gradient trials"
    return (f"{scale.train_subset} {name} training images, {scale.epoch_fraction:g}x the post's epochs, "
            f"{scale.grad_trials} gradient trials")


def usage_error(e: HarnessError):
    import pytest
    return pytest.UsageError(str(e))
