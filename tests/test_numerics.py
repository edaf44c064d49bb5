"""The cache key is the run's protocol plus the numerics version (harness/numerics.py):
the version cannot go stale, keys survive a neutral new field and the thread count,
and a tiny golden run pins the numbers a version stands for."""
import dataclasses
import json
from pathlib import Path

import pytest
import torch

from harness import numerics, scales
from harness.cache import spec_key
from harness.context import Context
from harness.trainer import Phase, RunConfig, train

GOLDEN = Path(__file__).with_name("golden_numerics.json")
TINY = RunConfig(phases=(Phase(2, 32, 0.05),), seed=3, train_subset=512, test_subset=512, train_eval_subset=512)


def test_every_numerics_version_matches_its_source():
    """Editing the engine, trainer, data, model, geometry, sampler or tails
    without setting the numerics version's hash fails here, with what to do."""
    assert numerics.stale() == []


def test_a_new_field_at_its_neutral_value_keeps_every_key():
    """Adding a run-spec field whose default reproduces the old behaviour must
    not orphan published records: at that value the key is the old key."""
    base = RunConfig(phases=(Phase(3, 64, 0.01),), seed=2)
    grown = dataclasses.make_dataclass("RunConfig", [("label_smoothing", float, dataclasses.field(default=0.0))],
                                       bases=(RunConfig,), frozen=True)
    grown.key_neutral = {"label_smoothing": 0.0}
    same = grown(phases=base.phases, seed=2)
    assert spec_key(same) == spec_key(base)
    assert spec_key(grown(phases=base.phases, seed=2, label_smoothing=0.1)) != spec_key(base)


def test_every_protocol_field_changes_the_key():
    base = RunConfig(phases=(Phase(3, 64, 0.01),))
    for change in ({"seed": 1}, {"scaling": "x255"}, {"init": "torch"}, {"train_subset": 100},
                   {"phases": (Phase(3, 64, 0.02),)}, {"optimizer": "adam"}, {"drop_last": True}):
        assert spec_key(dataclasses.replace(base, **change)) != spec_key(base), change


def test_the_key_changes_with_the_numerics_version(monkeypatch):
    spec = RunConfig(phases=(Phase(3, 64, 0.01),))
    before = spec_key(spec)
    monkeypatch.setitem(numerics.VERSIONS, "train", (numerics.version("train") + 1, "x"))
    assert spec_key(spec) != before


def test_the_key_ignores_the_thread_count_unless_exact(tmp_path):
    """A run trained by a -n 2 worker (1 thread) is found by a plain session
    (2 threads); --exact-numerics keys on the fingerprint instead."""
    ctx = Context(scales.QUICK, [0], "cpu", None, tmp_path / "c", tmp_path / "r", verbose_progress=False)
    exact = Context(scales.QUICK, [0], "cpu", None, tmp_path / "c", tmp_path / "r", verbose_progress=False,
                    exact=True)
    spec = RunConfig(phases=(Phase(3, 64, 0.01),))
    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        k1, e1 = ctx.key(spec), exact.key(spec)
        torch.set_num_threads(2)
        k2, e2 = ctx.key(spec), exact.key(spec)
    finally:
        torch.set_num_threads(n)
    assert k1 == k2 == spec_key(spec)
    assert e1 != e2 and k1 not in (e1, e2)


def test_golden_run_reproduces_the_numbers_of_this_version(mnist_root, tmp_path):
    """A 2-epoch run on 512 images: its losses and distances as recorded when
    the training numerics version was set, on 1 thread (rtol 1e-3: other CPUs
    round differently, by ~1e-4 here; a changed computation moves them far more)."""
    golden = json.loads(GOLDEN.read_text())
    v = str(numerics.version("train"))
    assert v in golden["train"], (f"no golden numbers for training numerics version {v}: add them with "
                                  f"`python tests/test_numerics.py` after checking the change is intended")
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # as recorded: other thread counts move the test loss by ~2e-4
    try:
        record, _ = train(TINY, "cpu", mnist_root, tmp_path)
    finally:
        torch.set_num_threads(n)
    got = _summary(record)
    for k, want in golden["train"][v].items():
        assert got[k] == pytest.approx(want, rel=1e-3), k


def _summary(record):
    h = record["history"]
    return {"train_loss": h["train_loss"][-1], "test_loss": h["test_loss"][-1], "w_dist": h["w_dist"][-1],
            "b_dist": h["b_dist"][-1], "w_norm": h["w_norm"][-1]}


if __name__ == "__main__":  # record the golden numbers of the current version
    import os
    import tempfile

    from harness import data
    root = data.resolve_root("mnist", os.environ["BSC_DATA_ROOT"], tempfile.mkdtemp())
    torch.set_num_threads(1)
    rec, _ = train(TINY, "cpu", str(root), tempfile.mkdtemp())
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {"train": {}}
    golden["train"][str(numerics.version("train"))] = _summary(rec)
    GOLDEN.write_text(json.dumps(golden, indent=1) + "\n")
    print(golden)
