"""Published run records (harness/records.py): the read-only layer under the cache."""
import json
import math
from dataclasses import dataclass, field

import pytest
import torch

from harness import records, scales
from harness.cache import RunCache, spec_key
from harness.context import Context


CALLS: dict[int, list] = {}  # seed -> one item per compute


@pytest.fixture(autouse=True)
def _forget_calls():
    CALLS.clear()


@dataclass(frozen=True)
class Toy:
    """A spec that computes a record with plain data and a tensor, and keeps weights."""
    seed: int
    kind: str = field(default="train", init=False)

    @property
    def calls(self):
        return CALLS.setdefault(self.seed, [])

    def describe(self):
        return f"toy seed{self.seed}"

    def cost(self):
        return 1.0

    def compute(self, ctx):
        self.calls.append(1)
        rec = {"acc": [0.5, 0.25 * self.seed], "nan": math.nan, "t": torch.arange(6, dtype=torch.float64).reshape(2, 3),
               "n": torch.tensor([1, 2], dtype=torch.int64), "diverged_at": None}
        return {"record": rec, "tensors": {"w": [torch.ones(2)]}}

    def diverged_at(self, entry):
        return None


def _ctx(tmp_path, name, **kw):
    return Context(scales.QUICK, [0], "cpu", None, tmp_path / name, tmp_path / "r", verbose_progress=False,
                   out=lambda m: None, **kw)


def test_a_record_round_trips_through_json_exactly(tmp_path):
    entry = Toy(3).compute(None)
    records.write(tmp_path, "k1", entry, "toy")
    back = records.read(tmp_path, "k1")
    assert back["tensors"] == {}  # weights are never published
    r = back["record"]
    assert r["acc"] == [0.5, 0.75] and math.isnan(r["nan"]) and r["diverged_at"] is None
    assert torch.equal(r["t"], entry["record"]["t"]) and r["t"].dtype == torch.float64
    assert torch.equal(r["n"], entry["record"]["n"]) and r["n"].dtype == torch.int64
    json.loads((tmp_path / "k1.json").read_text())  # strict JSON: no NaN literals


def test_a_published_campaign_is_read_without_training_and_says_so(tmp_path):
    pub = tmp_path / "published"
    first = _ctx(tmp_path, "a", publish=pub)
    spec = Toy(1)
    first.results([spec])
    assert len(spec.calls) == 1 and (pub / f"{spec_key(spec)}.json").exists()
    # another machine: an empty cache, the published folder read under it
    again = Toy(1)
    other = _ctx(tmp_path, "b", published=(pub,))
    (rec,) = other.records([again])
    assert again.calls == [1] and rec["acc"] == [0.5, 0.25]  # the one call: the first machine's
    assert other.cache.path(spec_key(spec)).exists() is False


def test_the_published_record_decides_and_weights_come_only_from_a_local_run(tmp_path):
    pub = tmp_path / "published"
    spec = Toy(2)
    key = spec_key(spec)
    fake = {"record": {"acc": [9.0], "diverged_at": None}, "tensors": {}}
    records.write(pub, key, fake, "toy")
    ctx = _ctx(tmp_path, "c", published=(pub,))
    ctx.cache.write(key, spec.compute(ctx))  # a local entry of the same run
    spec.calls.clear()
    assert ctx.records([spec])[0]["acc"] == [9.0]  # published first
    said = []
    ctx.out = said.append
    (entry,) = ctx.results([Toy(5)], need_tensors=True)  # nothing anywhere: trained locally
    assert entry["tensors"]["w"][0].shape == (2,)
    records.write(pub, spec_key(Toy(6)), fake, "toy")
    t6 = Toy(6)
    (entry,) = ctx.results([t6], need_tensors=True)  # published only: retrained for its weights, and said so
    assert t6.calls == [1] and "w" in entry["tensors"] and any("retraining toy seed6" in m for m in said)


@pytest.mark.parametrize("damage", ["not json", "wrong key", "wrong format", "bad dtype"])
def test_an_unsound_published_record_is_ignored_with_a_warning(tmp_path, damage):
    pub = tmp_path / "published"
    spec = Toy(4)
    key = spec_key(spec)
    records.write(pub, key, spec.compute(None), "toy")
    p = records.path(pub, key)
    doc = json.loads(p.read_text())
    if damage == "not json":
        p.write_text(p.read_text()[:50])
    elif damage == "wrong key":
        doc["key"] = "0" * 32
        p.write_text(json.dumps(doc))
    elif damage == "wrong format":
        doc["format"] = "pickle"
        p.write_text(json.dumps(doc))
    else:
        doc["record"]["t"]["__tensor__"] = "object"
        p.write_text(json.dumps(doc))
    spec.calls.clear()
    ctx = _ctx(tmp_path, "d", published=(pub,))
    with pytest.warns(RuntimeWarning, match="published record ignored"):
        ctx.records([spec])
    assert spec.calls == [1]  # computed, not trusted
    assert p.exists()  # the published layer is read-only: never deleted


def test_refresh_ignores_published_records(tmp_path):
    pub = tmp_path / "published"
    cache = RunCache(tmp_path / "e", refresh_since=1e18, published=(pub,))
    assert cache.published == []


def test_no_train_reads_published_runs_and_skips_the_rest_with_the_reason(tmp_path):
    from harness.context import RunSkipped
    pub = tmp_path / "published"
    records.write(pub, spec_key(Toy(7)), Toy(7).compute(None), "toy")
    CALLS.clear()
    ctx = _ctx(tmp_path, "f", published=(pub,), no_train=True)
    assert ctx.records([Toy(7)])[0]["acc"] == [0.5, 1.75]
    with pytest.raises(RunSkipped, match="--no-train: neither the published records nor the cache hold toy seed8"):
        ctx.records([Toy(7), Toy(8)])
    assert CALLS == {}  # nothing trained


def test_no_train_skips_the_gradient_experiment_when_its_runs_are_missing(tmp_path):
    """The gradient experiment is a session fixture: with nothing to read, its
    readings skip with the reason instead of erroring (a partial campaign)."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("BSC_DATA_ROOT", None)
    args = ["claims/test_f4_gradient_norm.py", "--quick", "--no-train", "--records", "none",
            "--cache-dir", str(tmp_path / "c"), "--report-dir", str(tmp_path / "r"), "--device", "cpu",
            "-p", "no:cacheprovider", "-q", "-rs"]
    p = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=root, env=env, capture_output=True, text=True,
                       timeout=300)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "error" not in out.lower().split("short test summary")[-1], out
    assert "--no-train: neither the published records nor the cache hold" in out, out
