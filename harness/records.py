"""Published run records: the compact, committed form of cache entries.

A published record is one JSON file `<dir>/<key>.json` holding an entry's
record (per-epoch metrics, gradient-experiment summaries) and never its weight
tensors. The campaign writes them as runs finish (`--publish DIR`); every
session reads them as a read-only layer under its local cache (`--records`),
so a partial campaign resumes, and a report regenerates, on any machine
without training. The key is the run's protocol and numerics version
(cache.spec_key), not the commit or the machine: those are in the record's
provenance.

The files are data, never code: JSON only, checked on reading (format, key,
shape); a file that fails a check is reported and ignored, never trusted.
Tensors inside a record (the gradient summaries) are stored as
{"__tensor__": dtype, "shape": [...], "data": [flat values]}.
"""
import json
import math
import warnings
from pathlib import Path

import torch

from . import atomic

FORMAT = "batch-size-claims run record"
SCHEMA = 1
DTYPES = {"float64": torch.float64, "float32": torch.float32, "int64": torch.int64, "int32": torch.int32,
          "bool": torch.bool}


class BadRecord(Exception):
    pass


def _encode(x):
    if isinstance(x, torch.Tensor):
        name = str(x.dtype).removeprefix("torch.")
        if name not in DTYPES:
            raise TypeError(f"a published record cannot hold a {x.dtype} tensor")
        return {"__tensor__": name, "shape": list(x.shape), "data": x.detach().cpu().flatten().tolist()}
    if isinstance(x, dict):
        return {str(k): _encode(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_encode(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return {"__float__": repr(x)}  # nan, inf, -inf: strict JSON has no such numbers
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise TypeError(f"a published record cannot hold {type(x).__name__}")


def _decode(x):
    if isinstance(x, dict):
        if "__tensor__" in x:
            if x["__tensor__"] not in DTYPES:
                raise BadRecord(f"unknown tensor dtype {x['__tensor__']!r}")
            t = torch.tensor(x["data"], dtype=DTYPES[x["__tensor__"]])
            return t.reshape(x["shape"])
        if set(x) == {"__float__"}:
            if x["__float__"] not in ("nan", "inf", "-inf"):
                raise BadRecord(f"bad float {x['__float__']!r}")
            return float(x["__float__"])
        return {k: _decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_decode(v) for v in x]
    return x


def path(folder, key) -> Path:
    return Path(folder) / f"{key}.json"


def write(folder, key, entry, spec_desc: str):
    """Publish an entry's record (its tensors stay in the local cache)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, "schema": SCHEMA, "key": key, "run": spec_desc, "record": _encode(entry["record"])}
    atomic.write_text(path(folder, key), json.dumps(doc, allow_nan=False, separators=(",", ":")) + "\n")


def read(folder, key):
    """The entry {"record": ..., "tensors": {}} published under key, or None.
    Raises BadRecord when the file is there but is not a sound record."""
    p = path(folder, key)
    try:
        text = p.read_text()
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise BadRecord(f"{p}: not JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BadRecord(f"{p}: not a published run record")
    if doc.get("schema") != SCHEMA:
        raise BadRecord(f"{p}: record schema {doc.get('schema')}, this harness reads schema {SCHEMA}")
    if doc.get("key") != key:
        raise BadRecord(f"{p}: holds key {doc.get('key')}, not {key} (renamed file?)")
    if not isinstance(doc.get("record"), dict):
        raise BadRecord(f"{p}: no record")
    return {"record": _decode(doc["record"]), "tensors": {}}


def read_checked(folders, key):
    """The first sound published entry for key in folders (with "source": its
    path), else None; an unsound one is reported with a warning and skipped."""
    for folder in folders:
        try:
            entry = read(folder, key)
        except BadRecord as e:
            warnings.warn(f"published record ignored: {e}", RuntimeWarning, stacklevel=3)
            continue
        if entry is not None:
            return entry | {"source": str(path(folder, key))}
    return None
