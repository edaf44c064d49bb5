"""Variants of a training run stored by earlier sessions that differ from a
request only in the snapshots kept.

A run's numbers do not depend on which epochs keep their parameters, so a
run stored with snapshots S serves a request for any subset of S
(Context.plan). Within one session the plan sees every variant the session
asks for. A later session that selects fewer claims (F3 alone after the whole
suite) asks for another variant than the one stored, and without this module
would train the run again, or skip it under --no-train.

Where earlier variants are found:
- the local cache's index, `<cache>/variants/<key of the run without
  snapshots>/<snapshots>`, one empty file per variant a session planned
  (written at plan time; a hint only: a variant is used when its entry is
  there, so an index line for a run never finished costs nothing);
- the published records, whose record holds the run's config.
"""
import json
from dataclasses import replace
from pathlib import Path

from .cache import spec_key

INDEX = "variants"


def _plain_key(spec) -> str:
    return spec_key(replace(spec, snapshots=()))


def _name(snapshots) -> str:
    return "-".join(map(str, snapshots)) or "none"


def _parse(name: str):
    if name == "none":
        return ()
    try:
        return tuple(int(x) for x in name.split("-"))
    except ValueError:
        return None  # not an index line of ours: ignored


def note(cache_root, specs):
    """Index the variants a session plans (best effort: the index is only a hint)."""
    for s in specs:
        d = Path(cache_root) / INDEX / _plain_key(s)
        try:
            d.mkdir(parents=True, exist_ok=True)
            (d / _name(s.snapshots)).touch()
        except OSError:
            pass


def _protocol(config: dict) -> str:
    """A run's config without its snapshots, as canonical JSON."""
    return json.dumps({k: v for k, v in config.items() if k != "snapshots"}, sort_keys=True, default=str)


class Stored:
    """The snapshot tuples stored for a run, from the local index and the
    published records (the records' configs are read once, on first need)."""

    def __init__(self, cache_root, published_folders):
        self.root = Path(cache_root)
        self.folders = [Path(f) for f in published_folders]
        self._published = None

    def _published_snapshots(self) -> dict:
        if self._published is None:
            self._published = {}
            for folder in self.folders:
                for p in sorted(folder.glob("*.json")):
                    try:
                        config = json.loads(p.read_text())["record"]["config"]
                        if config.get("kind") != "train":
                            continue
                        snapshots = tuple(config["snapshots"])
                    except (OSError, ValueError, KeyError, TypeError, AttributeError):
                        continue  # no training run's record: records.read_checked reports unsound files
                    self._published.setdefault(_protocol(config), set()).add(snapshots)
        return self._published

    def snapshots(self, spec) -> set:
        """Every snapshot tuple some earlier session planned or published for spec's run."""
        found = set(self._published_snapshots().get(_protocol(spec.fields()), ()))
        try:
            names = [p.name for p in (self.root / INDEX / _plain_key(spec)).iterdir()]
        except OSError:
            names = []
        return found | {t for t in map(_parse, names) if t is not None}

    def variants(self, spec, has) -> set:
        """The variants of spec's run (spec itself included) whose entries are
        there: has(variant) says so (the caller's key, --exact-numerics included)."""
        out = {replace(spec, snapshots=t) for t in self.snapshots(spec)}
        return {v for v in out if has(v)}
