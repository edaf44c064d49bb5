"""The session context a claim gets: scale, seeds, device, the run cache and
the one way to obtain results, `ctx.results(specs)`. A spec is any type that
implements harness/spec.py's protocol (a trainer.RunConfig, a
gradients.GradSpec): the context asks it to describe, order, compute and
judge (diverged_at) its own entry; its hash keys the cache."""
import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import variants
from .cache import RunCache, spec_key
from .executor import InProcess


class RunSkipped(Exception):
    """A claim asked for a run that this session's options exclude (--max-epochs);
    the claims fixture turns it into a skip with this message."""


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
    # where progress lines go: conftest passes one that gets past pytest's capture
    # (with or without xdist); the default writes to the process's real stderr
    out: "object" = None
    progress_log: Path | None = None  # every progress line is also appended here (tail -f it)
    max_epochs: int | None = None  # --max-epochs: runs longer than this are skipped, not trained
    published: tuple = ()  # folders of published records read under the cache (--records)
    publish: Path | None = None  # --publish: where computed entries are published
    exact: bool = False  # --exact-numerics: key runs on this machine's fingerprint too
    no_train: bool = False  # --no-train: read what exists, skip readings that would need training
    executor: "object" = None  # where missing runs are computed (harness/executor.py): this process by default
    batched_seeds: bool = False  # --batched-seeds: runs are the batched ones, their seeds trained together

    def __post_init__(self):
        self.executor = self.executor or InProcess()
        self.cache = RunCache(self.cache_root, self.refresh_since, events=self._event,
                              published=self.published, publish=self.publish)
        self.diverged_seen: list[tuple[str, int]] = []  # diverged runs the current test read
        self.used: list = []  # specs the current test read (its reading's protocol comes from them)
        self.served_by: dict = {}  # spec -> the run that serves it (plan)
        self.prefix: dict = {}     # spec -> (run, k): it starts from run's parameters after epoch k (plan)
        self.targets: set = set()  # what serves the session's requests (plan): trained or read anyway

    def say(self, msg):
        try:
            if self.out is not None:
                self.out(msg)
            else:
                print(msg, file=sys.__stderr__, flush=True)
        except (OSError, ValueError):  # a closed terminal must not fail a run
            pass
        if self.progress_log is not None:
            try:
                with open(self.progress_log, "a") as f:
                    f.write(f"{time.strftime('%H:%M:%S')} {msg}\n")
            except OSError:
                pass

    def _event(self, **kw):
        if self.events_path is None:
            return
        kw |= {"worker": self.worker, "time": time.time()}
        with open(self.events_path, "a") as f:  # one short line per write: appends do not interleave
            f.write(json.dumps(kw) + "\n")

    @property
    def fingerprint(self) -> dict:
        """What can change a run's last bits without changing its protocol: the
        device and its model, the intra-op thread count (how BLAS splits a
        matmul), the torch version. Stored with every record as provenance;
        part of the key only under --exact-numerics."""
        from . import provenance
        return provenance.fingerprint(self.device)

    def plan(self, specs):
        """Let one training run serve the requests that differ from it only in
        the snapshots kept, and let a run start where a shorter one ends.

        A run's numbers do not depend on which epochs keep their parameters,
        so a run keeping snapshots S serves any request for a subset of S (L3
        asks F1's BS64 run to keep its last epoch; without this both would
        train). A request already in the cache or the published records is
        served by itself, so no record is orphaned; otherwise by the largest
        superset, one already stored first, among specs and the variants
        earlier sessions stored (harness/variants.py). And a run whose first
        epochs are another run's (trainer.shared_epochs: F3's 30-epoch BS1024
        control and F9's 240 epochs start where F1's 15 end, L4's schedules
        from F2's BS64 lr 0.1 run after 7 epochs) starts from that run's
        snapshot (start_for), with the same numbers."""
        from .trainer import shared_epochs
        trains = {s for s in specs if getattr(s, "kind", None) == "train" and not getattr(s, "batched_seeds", False)}
        # a run whose first k epochs another run of the session trains (trainer.shared_epochs)
        # starts from that run's parameters after epoch k, asked for as a snapshot, so that one
        # training of those epochs serves both. Runs only start from runs ranked before them
        # (shorter; equal length: by key), so no two wait for each other.
        # The rank is total (variants of one run that differ only in their snapshots are ordered by
        # them): the plan must not depend on the order a set iterates in, which follows Python's
        # per-process string hashing, or two xdist workers (or a session and its --no-train rerun)
        # would plan different snapshot variants and look for keys the other never stored.
        ranks = {}
        rank = lambda s: ranks.get(s) or ranks.setdefault(s, (s.epochs, spec_key(replace(s, snapshots=()))))  # noqa: E731
        order = lambda s: (*rank(s), s.snapshots)  # noqa: E731
        kin = lambda s: replace(s, phases=(replace(s.phases[0], epochs=1),), eval_every=1, snapshots=())  # noqa: E731
        # (what runs must share to share epochs: protocol, seed, first batch size and lr)
        by_kin = {}
        for s in trains:
            by_kin.setdefault(kin(s), set()).add(s)
        todo = sorted(trains, key=order)
        while todo:
            r = todo.pop()
            best = max(((shared_epochs(r, o), o) for o in by_kin[kin(r)] if rank(o) < rank(r)),
                       key=lambda t: (t[0], order(t[1])), default=(0, None))
            k, o = best
            if k:
                p = replace(o, snapshots=tuple(sorted({*o.snapshots, k})))
                self.prefix[r] = (p, k)
                if p not in trains:
                    trains.add(p)
                    by_kin[kin(p)].add(p)
                    todo.append(p)
        groups = {}
        for s in trains:
            groups.setdefault(replace(s, snapshots=()), set()).add(s)
        has = lambda s: self.cache.has(spec_key(s, self.fingerprint if self.exact else None))  # noqa: E731
        stored_before = variants.Stored(self.cache_root, self.cache.published)
        for plain, members in groups.items():
            stored = {m for m in members if has(m)}
            if stored == members:
                continue
            # and the variants earlier sessions stored that this one does not ask for (F3 alone
            # after the whole suite): served by them, such a run is neither trained again nor skipped
            stored |= stored_before.variants(plain, has)
            for s in members - stored:
                supers = [t for t in members | stored if t != s and set(s.snapshots) <= set(t.snapshots)]
                if supers:
                    self.served_by[s] = max(supers, key=lambda t: (t in stored, len(t.snapshots), t.snapshots))
        self.targets |= {self.resolve(s) for s in specs}
        variants.note(self.cache_root, {self.resolve(s) for s in trains})

    def start_for(self, spec):
        """(run, k): spec starts from run's parameters after epoch k (plan), or
        (None, 0): only from a run
        that the session trains anyway (it serves a request of its own) or that
        the local cache holds with its weights; otherwise spec trains from its init."""
        p, k = self.prefix.get(spec, (None, 0))
        if p is None:
            return None, 0
        q = self.resolve(p)
        key = self.key(q)
        if self.cache.path(key).exists() or (q in self.targets and not self.cache.has(key)):
            return q, k  # a published record holds no weights: starting from one would mean training it again
        return None, 0

    def resolve(self, spec):
        """The spec this session reads and computes for spec: the run that serves
        it (plan), under --batched-seeds in its batched form (every run in it
        trained with its config's other seeds)."""
        spec = self.served_by.get(spec, spec)
        if not self.batched_seeds:
            return spec
        from . import batched
        return batched.mark(spec)

    def key(self, spec):
        return spec_key(self.resolve(spec), self.fingerprint if self.exact else None)

    def job(self, spec):
        """(key, compute, desc, info) for the cache: compute goes through the session's executor;
        what the cache logs about an entry comes from the spec."""
        spec = self.resolve(spec)
        return (self.key(spec), lambda: self.executor.submit(spec, self).result().entry, spec.describe(),
                lambda entry: {"diverged_at": spec.diverged_at(entry)} | made_by(entry))

    def too_long(self, spec) -> bool:
        return self.max_epochs is not None and getattr(spec, "epochs", 0) > self.max_epochs

    def excluded(self, spec) -> str | None:
        """Why this session's options keep it from computing spec, or None."""
        if self.too_long(spec):
            return f"--max-epochs {self.max_epochs} excludes"
        if self.no_train and not self.cache.has(self.key(spec)):
            return "--no-train: neither the published records nor the cache hold"
        return None

    def available(self, specs) -> bool:
        """False when the options exclude any of specs: a figure leaves
        those out instead of skipping the reading it illustrates."""
        return not any(self.excluded(s) for s in specs)

    def prefetch(self, specs):
        """Compute every missing spec, largest first, through the session's
        executor, sharing the work with any other process that prefetches the
        same list. Under --batched-seeds the missing runs of one config train
        together first (harness/batched.py)."""
        uniq = {self.key(s): self.resolve(s) for s in specs if not self.excluded(s)}
        order = sorted(uniq.values(), key=lambda s: (getattr(s, "kind", "") != "train", -s.cost()))
        if self.batched_seeds:
            from . import batched
            batched.prefetch(self, order)
        self.executor.prefetch(self, order)

    def results(self, specs, need_tensors=False):
        """The cache entries of specs, in order, computing what is missing.
        need_tensors: the caller reads the entries' weights, which published
        records do not hold: a run known only from them is retrained here."""
        specs = list(specs)
        self.used += specs
        out = [(why, s.describe()) for s in specs if (why := self.excluded(s))]
        if out:
            raise RunSkipped(f"{out[0][0]} {out[0][1]}" + (f" and {len(out) - 1} more" if len(out) > 1 else ""))
        self.prefetch(specs)
        if need_tensors:
            for s in specs:
                k = self.key(s)
                if not self.cache.path(k).exists() and self.cache.has(k):
                    self.say(f"[{self.worker}] retraining {s.describe()}: its published record holds no weights, "
                             f"and this reading starts from them")
        out = [self.cache.get(*self.job(s), local_only=need_tensors) for s in specs]
        for s, e in zip(specs, out):
            if "source" in e:
                self._compare_local(s, e)
        for s, e in zip(specs, out):
            at = s.diverged_at(e)
            if at and (s.describe(), at) not in self.diverged_seen:
                self.diverged_seen.append((s.describe(), at))
        return out

    def _compare_local(self, spec, published):
        """A run known from a published record and from this machine's cache: the
        published record decides; log how far the local one differs from it."""
        key = self.key(spec)
        if not self.cache.path(key).exists() or not hasattr(spec, "summary"):
            return
        try:
            local = self.cache.read(key)
        except Exception:  # a damaged local entry is the cache's business, not the comparison's
            return
        a, b = spec.summary(published["record"]), spec.summary(local["record"])
        self._event(event="compared", key=key, desc=spec.describe(), published=a, local=b,
                    max_abs_diff=max((abs(a[k] - b[k]) for k in a if k in b), default=0.0),
                    **{"local_" + k: v for k, v in made_by(local).items()})

    def records(self, specs):
        return [e["record"] for e in self.results(specs)]

    def cost_keys(self, specs) -> list[str]:
        """The keys of specs' entries and of those they were computed from (a run's
        shared first epochs, a gradient chunk's start run): given what a test
        declared and read, what its verdict cost (Session.finish sums it by finding)."""
        keys, todo = set(), list(specs)
        while todo:
            s = todo.pop()
            k = self.key(s)
            if k in keys:
                continue
            keys.add(k)
            first, _ = self.prefix.get(s, (None, 0))  # the run whose first epochs s started from
            todo += [first] if first is not None else []
            todo += list(s.needs())
        return sorted(keys)


def made_by(entry) -> dict:
    """Which machine computed an entry, and in how long, from its record's provenance."""
    p = entry["record"].get("provenance", {}) if isinstance(entry.get("record"), dict) else {}
    fp = p.get("fingerprint", {})
    machine = (f"{p.get('device_name', '?')}, {fp.get('threads', p.get('threads', '?'))} thread(s), "
               f"torch {p.get('torch', '?')}, host {p.get('host', '?')}")
    return {"machine": machine, "run_wall_s": p.get("wall_s")}
