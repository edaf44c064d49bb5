"""The run cache, shared by every claim, every xdist worker and every session.

An entry is one file `<dir>/runs/<key>.run`:  b"BSC<schema> <sha256>\n" + a
torch.save payload {"record": plain data, "tensors": {name: [tensor, ...]}}.
Writes go to a temp file that is fsynced and renamed (harness/atomic.py), so a
crash (even kill -9) never leaves half an entry under the final name; reads verify the schema and
the checksum, so a damaged or outdated entry is reported (a RuntimeWarning and
a "corrupt" event that the session summary lists), deleted and recomputed
rather than trusted. Temp files a killed writer left are swept after an hour.

Under the local entries lies a read-only layer of published records
(harness/records.py: committed JSON, no weights), read first where present;
`publish` copies every entry the cache computes or serves locally into such a
folder (the campaign's --publish).

The cache never looks inside an entry: what it logs about one (e.g. the run's
divergence) comes from the caller's `info(entry)` callback.

A per-key file lock makes concurrent processes that need the same run compute
it once: the first takes the lock and trains, the others wait and then read.
`ensure` lets several workers that need the same list of runs share it out:
each takes the first run nobody holds (non-blocking lock), and only waits when
every remaining run is being computed by someone else.
"""
import dataclasses
import hashlib
import io
import json
import tempfile
import time
import warnings
from dataclasses import is_dataclass
from pathlib import Path

import torch
from filelock import FileLock, Timeout

from . import atomic, numerics, records
from .errors import ConfigError

SCHEMA = 1  # bump when the entry layout changes: older entries then read as stale and are recomputed
MAGIC = b"BSC%d " % SCHEMA
STALE_TMP_S = 3600  # a temp file this old was left by a killed writer: remove it


class CorruptEntry(Exception):
    pass


def key_neutral(cls) -> dict:
    """The key-neutral fields of a spec class and of the classes it extends."""
    return {k: v for c in reversed(cls.__mro__) for k, v in vars(c).get("key_neutral", {}).items()}


def key_fields(spec):
    """The spec's fields as plain data, nested specs included, leaving out any
    field at its class's key-neutral value (a field added later, whose value
    there reproduces the old behaviour: the old records keep their keys)."""
    if is_dataclass(spec):
        neutral = key_neutral(type(spec))
        return {f.name: key_fields(getattr(spec, f.name)) for f in dataclasses.fields(spec)
                if not (f.name in neutral and getattr(spec, f.name) == neutral[f.name])}
    if isinstance(spec, (list, tuple)):
        return [key_fields(v) for v in spec]
    if isinstance(spec, dict):
        return {str(k): key_fields(v) for k, v in spec.items()}
    return spec


def numerics_of(spec) -> set:
    """The numerics groups (harness/numerics.py) of a spec and of the specs
    inside it: a gradient chunk's entry depends on how its start run was trained."""
    groups = set(getattr(spec, "numerics", ()))
    if is_dataclass(spec) and not isinstance(spec, type):
        for f in dataclasses.fields(spec):
            groups |= numerics_of(getattr(spec, f.name))
    return groups


def spec_key(spec, exact: dict | None = None) -> str:
    """What defines an experiment, hashed: the spec's type and fields and the
    versions of the code that turns them into numbers (harness/numerics.py).
    Not the machine: device, threads and torch version are each record's
    fingerprint (provenance), so a run is found whatever the worker count, and
    a published record is read on any machine. exact: a fingerprint to key on
    as well, for users who reuse only bit-identical runs (--exact-numerics)."""
    blob = {"type": type(spec).__name__, "fields": key_fields(spec),
            "numerics": {g: numerics.version(g) for g in sorted(numerics_of(spec))}}
    if exact:
        blob["fingerprint"] = exact
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _info(info, entry) -> dict:
    """What the caller wants logged about an entry (the cache never looks inside one)."""
    return info(entry) if info is not None else {}


class RunCache:
    def __init__(self, root, refresh_since: float | None = None, events=None, published=(), publish=None):
        self.root = Path(root)
        # published: folders of committed records (harness/records.py), read-only,
        # consulted before the local entries (a published record decides);
        # publish: the folder every entry this cache computes or reads locally is published to
        self.published = [Path(p) for p in published] if refresh_since is None else []
        self.publish = Path(publish) if publish else None
        self.dir = self.root / "runs"
        self.locks = self.root / "locks"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.locks.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self.dir, delete=True)
            probe.close()
        except OSError as e:
            raise ConfigError(f"cache dir {self.root} is not writable ({e.strerror}): "
                              f"pass --cache-dir <writable dir> or set BSC_CACHE_DIR") from e
        # --refresh: entries written before this time (the session's start) are
        # stale; a time rather than a flag so that xdist workers agree on it.
        self.refresh_since = refresh_since
        self.events = events or (lambda **kw: None)
        self._sweep()

    def _sweep(self):
        """Remove temp files that a killed writer left behind (never a live one:
        a write takes seconds, these are an hour old)."""
        now = time.time()
        for t in self.dir.glob(".*.tmp"):
            try:
                if now - t.stat().st_mtime > STALE_TMP_S:
                    t.unlink()
            except OSError:
                pass

    def path(self, key):
        return self.dir / f"{key}.run"

    # -- entries -----------------------------------------------------------
    def read(self, key):
        """The entry, or None if absent. Raises CorruptEntry on a bad file."""
        p = self.path(key)
        try:
            blob = p.read_bytes()
        except FileNotFoundError:
            return None
        head, _, payload = blob.partition(b"\n")
        if not head.startswith(MAGIC):
            if head[:3] == b"BSC" and head[3:].split(b" ")[0].isdigit():
                raise CorruptEntry(f"{p}: written with cache schema {int(head[3:].split(b' ')[0])}, "
                                   f"this harness reads schema {SCHEMA}")
            raise CorruptEntry(f"{p}: not a cache entry (bad header)")
        if head[len(MAGIC):].decode(errors="replace") != hashlib.sha256(payload).hexdigest():
            raise CorruptEntry(f"{p}: sha256 mismatch (truncated or damaged: {len(blob)} bytes)")
        try:
            return torch.load(io.BytesIO(payload), weights_only=True)
        except Exception as e:  # a payload that hashes right but will not load: treat as corrupt
            raise CorruptEntry(f"{p}: {e}") from e

    def write(self, key, entry):
        buf = io.BytesIO()
        torch.save(entry, buf)
        payload = buf.getvalue()
        head = MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n"
        atomic.write_bytes(self.path(key), head + payload)  # 0644: readable by others sharing the cache

    def _valid(self, key, local_only=False):
        """The entry if present and sound: a published record first (it decides
        where both exist), then the local entry; a corrupt local one is deleted
        with a warning. local_only: the caller needs the weight tensors, which
        only a local entry holds."""
        if self.published and not local_only:
            entry = records.read_checked(self.published, key)
            if entry is not None:
                return entry
        if self.refresh_since is not None:
            try:
                if self.path(key).stat().st_mtime < self.refresh_since:
                    return None
            except FileNotFoundError:
                return None
        try:
            return self.read(key)
        except CorruptEntry as e:
            warnings.warn(f"corrupt cache entry recomputed: {e}", RuntimeWarning, stacklevel=3)
            self.events(event="corrupt", key=key, error=str(e))
            self.path(key).unlink(missing_ok=True)
            return None

    def has(self, key) -> bool:
        """True when the entry can be read without computing (no checks: for estimates)."""
        return self.path(key).exists() or any(records.path(d, key).exists() for d in self.published)

    def _found(self, key, desc, info, entry):
        """Log a cache hit (and where it came from); publish a local entry not yet published."""
        source = "published" if "source" in entry else "local"
        self.events(event="cached", key=key, desc=desc, source=source, **_info(info, entry))
        if self.publish and source == "local" and not records.path(self.publish, key).exists():
            records.write(self.publish, key, entry, desc)
        return entry

    def _lock(self, key, timeout):
        return FileLock(str(self.locks / f"{key}.lock"), timeout=timeout)

    def find(self, key, local_only=False):
        """The sound entry for key (a published record first, unless local_only), or None."""
        return self._valid(key, local_only)

    def claim(self, key):
        """The key's lock, taken without waiting (the caller computes the entry
        elsewhere, then stores it and releases the lock), or None when another
        process holds it: that process is computing the entry."""
        lock = self._lock(key, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return None
        return lock

    def _compute_locked(self, key, compute, desc, info, local_only=False):
        entry = self._valid(key, local_only)  # someone may have finished it while we waited
        if entry is not None:
            return self._found(key, desc, info, entry)
        t0 = time.perf_counter()
        entry = compute()
        return self.store(key, entry, desc, info, time.perf_counter() - t0)

    def store(self, key, entry, desc="", info=None, wall_s=None):
        """Write an entry computed for key (here, or returned by a remote worker:
        harness/executor.py), publish it, log it as computed."""
        self.write(key, entry)
        if self.publish:
            records.write(self.publish, key, entry, desc)
        self.events(event="computed", key=key, desc=desc, wall_s=wall_s, **_info(info, entry))
        return entry

    # -- the two ways in -----------------------------------------------------
    def get(self, key, compute, desc="", info=None, local_only=False):
        """The entry for key, computing it (once across processes) if needed.
        info(entry) -> dict: extra fields for the cached/computed event.
        local_only: skip the published records (the caller needs weight tensors)."""
        entry = self._valid(key, local_only)
        if entry is not None:
            return self._found(key, desc, info, entry)
        with self._lock(key, timeout=-1):
            return self._compute_locked(key, compute, desc, info, local_only)

    def ensure(self, jobs):
        """jobs: list of (key, compute, desc) or (key, compute, desc, info), as
        for get. Computes the missing ones, taking free ones first so that
        processes sharing the list split the work."""
        jobs = [(*j, None) if len(j) == 3 else tuple(j) for j in jobs]
        pending = [j for j in jobs if self._valid(j[0]) is None]
        while pending:
            for job in list(pending):
                key, compute, desc, info = job
                try:
                    with self._lock(key, timeout=0):
                        self._compute_locked(key, compute, desc, info)
                    pending.remove(job)
                except Timeout:
                    continue  # another process holds it: try the next one
            if pending:  # everything left is being computed elsewhere: wait for one
                key, compute, desc, info = pending.pop(0)
                self.get(key, compute, desc, info)
