"""What a claim module uses to declare its runs and hand over its readings.

A module opens with its Finding (claims/post.py) and declares, per test, the
function that builds the runs the test needs:

    def grid(scale, seeds, scaling):                  # the runs, as data
        return {bs: protocol.runs(scale, seeds, "sgd", bs, 0.01, scaling=scaling) for bs in BS}

    @uses(grid)
    @pytest.mark.parametrize("scaling", SCALINGS)
    def test_x(runs, reading, scaling):               # runs: the same shape, records in place of specs
        v = verdicts.monotone(...)
        reading(v, "accuracy falls with batch size", ours={...}, unit="%")

The plugin calls the declaring function at collection, with the test's own
parameters (those it names), to gather every run of the session before any
test starts, and again in the `runs` fixture: the runs are declared once. A
declaring function that raises NotAtThisScale skips the reading at
collection, with its reason (paper-only readings, arms the quick scale
leaves out); so does a run longer than --max-epochs.
"""
import inspect
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from . import expect, rules
from .errors import NotAtThisScale

ITEM_KEY = "bsc_item"  # user_properties key of a reading's identity, set at collection
OPEN_FIELDS = ("dataset", "optimizer", "init", "scaling", "drop_last", "train_subset", "test_subset")


def uses(declare, partial=False):
    """Mark a claim test with the function that declares its runs. partial:
    the test reads what is there, so --max-epochs leaves out the entries (of a
    declared dict) it excludes instead of skipping the whole reading (a table
    of rows, say)."""
    return pytest.mark.bsc_runs.with_args(declare, partial=partial)  # with_args: a lone callable would be decorated


def _declared(item, scale, seeds, max_epochs=None):
    marker = item.get_closest_marker("bsc_runs")
    if marker is None:
        return None
    fn = marker.args[0]
    params = item.callspec.params if hasattr(item, "callspec") else {}
    names = inspect.signature(fn).parameters
    struct = fn(scale, list(seeds), **{k: v for k, v in params.items() if k in names})
    if marker.kwargs.get("partial") and max_epochs is not None:
        struct = _prune(struct, max_epochs)
    return struct


def _prune(struct, max_epochs):
    """A declared dict without the entries --max-epochs excludes (nested dicts too)."""
    if not isinstance(struct, dict):
        return struct
    return {k: _prune(v, max_epochs) for k, v in struct.items()
            if isinstance(v, dict) or not _too_long(flatten(v), max_epochs)}


def _too_long(specs, max_epochs):
    return [s.describe() for s in specs if getattr(s, "epochs", 0) > max_epochs]


def flatten(struct) -> list:
    """The specs in a declared structure (dicts, lists and tuples of specs)."""
    if isinstance(struct, dict):
        return [s for v in struct.values() for s in flatten(v)]
    if isinstance(struct, (list, tuple)):
        return [s for v in struct for s in flatten(v)]
    return [struct]


def _fill(struct, it):
    if isinstance(struct, dict):
        return {k: _fill(v, it) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return [_fill(v, it) for v in struct]
    return next(it)


def identity(item) -> dict | None:
    """The finding and reading a test item judges (None outside claim modules)."""
    f = getattr(item.module, "FINDING", None)
    if f is None:
        return None
    return {"finding": f.id, "claim": f.claim, "primary_ids": list(f.primary), "reading_id": item.name,
            "primary": f.is_primary(item.name), "related": [asdict(r) for r in f.related],
            "section": f.section}


def collect(item, options) -> list:
    """At collection: the specs the item needs; skip it now if it does not run here."""
    ident = identity(item)
    if ident is not None:
        item.user_properties.append((ITEM_KEY, ident))
    if item.get_closest_marker("skip") is not None:  # skipped already (e.g. not for this data set): train nothing
        return []
    try:
        struct = _declared(item, options.scale, options.seeds, options.max_epochs)
    except NotAtThisScale as e:
        item.add_marker(pytest.mark.skip(reason=str(e)))
        return []
    if struct is None:
        return []
    specs = flatten(struct)
    if options.max_epochs is not None:
        long = _too_long(specs, options.max_epochs)
        if long:
            item.add_marker(pytest.mark.skip(reason=f"--max-epochs {options.max_epochs} excludes {long[0]}"
                                                    + (f" and {len(long) - 1} more" if len(long) > 1 else "")))
            return []
    return specs


def records(item, ctx):
    """The declared structure with each spec replaced by its record."""
    struct = _declared(item, ctx.scale, ctx.seeds, ctx.max_epochs)
    if struct is None:
        raise RuntimeError(f"{item.name} asks for `runs` but declares none: decorate it with @uses(...)")
    return _fill(struct, iter(ctx.records(flatten(struct))))


def protocol_of(specs) -> dict:
    """The protocol choices the post leaves open, as the runs record them, and
    the distinct runs (seeds aside) a reading used."""
    train = [s for s in specs if hasattr(s, "phases")]
    if not train:
        return {}
    first = train[0].fields()
    runs = list(dict.fromkeys(s.describe().replace(f" seed{s.seed}", "") for s in train))
    return {k: first[k] for k in OPEN_FIELDS} | {"runs": runs}


def format_values(ours, unit="") -> str:
    """{label: value or per-seed values} -> "label 98.17%, ..." (means of lists)."""
    if ours is None or isinstance(ours, str):
        return ours or ""
    out = []
    for k, v in ours.items():
        v = float(np.mean(v)) if isinstance(v, (list, tuple, np.ndarray)) else v
        out.append(f"{k} {v:.4g}{unit}" if isinstance(v, (int, float)) and math.isfinite(v) else f"{k} {v}")
    return ", ".join(out)


class Reading:
    """The `reading` fixture: reading(verdict, text, ...) hands the test's one
    reading to the report and decides the test's outcome (harness/expect.py)."""

    def __init__(self, request, ctx, hand):
        self.request, self.ctx, self.hand = request, ctx, hand

    def __call__(self, verdict, text, ours=None, unit="", post="", figures=(), protocol=None):
        item, ctx = self.request.node, self.ctx
        proto = protocol if protocol is not None else protocol_of(ctx.used)
        dataset, scaling = proto.get("dataset", "mnist"), proto.get("scaling", "")
        known = expect.index(getattr(item.module, "KNOWN", ())).get((ctx.scale.name, dataset, scaling, item.name))
        status, message = expect.outcome(verdict, known)
        changed = _rule_changed(item, verdict)
        if changed:
            status, message = expect.FAIL, changed
        self.hand(dict(identity(item) or {}, kind="verdict", reading=text, verdict=verdict.as_dict(),
                       post=post, ours=format_values(ours, unit), protocol=proto, figures=list(figures),
                       scale=ctx.scale.name, dataset=dataset, scaling=scaling,
                       expected=list(known.verdicts) if known else None,
                       diverged=[{"run": d, "epoch": at} for d, at in ctx.diverged_seen]))
        if status == expect.FAIL:
            pytest.fail(f"{item.name}: {message}", pytrace=False)
        if status == expect.XFAIL:
            pytest.xfail(message)


def _rule_changed(item, verdict) -> str | None:
    """A primary reading whose rule or margin differs from the committed lock
    (claims/rules.json beside the module; harness/rules.py)."""
    finding = getattr(item.module, "FINDING", None)
    if finding is None or not finding.is_primary(item.name):
        return None
    lock = Path(item.module.__file__).with_name("rules.json")
    return rules.mismatch(lock, finding.id, item.name, verdict.rule, verdict.margin,
                          getattr(verdict, "margin_rule", ""))
