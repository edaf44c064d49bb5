"""The trainer on small real runs: determinism, schedules, batching, records."""
import math

import pytest
import torch

from harness import geometry, model, trainer
from harness.errors import ConfigError
from harness.trainer import Phase, RunConfig

SMALL = dict(train_subset=600, test_subset=300, train_eval_subset=300)


def run(tmp_path, data_root, **kw):
    cfg = RunConfig(**(dict(phases=(Phase(2, 64, 0.05),), snapshots=(0, 2)) | SMALL | kw))
    return trainer.train(cfg, "cpu", data_root, tmp_path)


def test_same_seed_gives_identical_numbers(tmp_path, data_root):
    (a, ta), (b, tb) = run(tmp_path, data_root), run(tmp_path, data_root)
    for key in ("test_acc", "train_loss", "w_dist", "b_dist", "cos"):
        assert a["history"][key] == b["history"][key]
    assert all(torch.equal(x, y) for x, y in zip(ta["epoch2"], tb["epoch2"]))


def test_seeds_differ(tmp_path, data_root):
    a, _ = run(tmp_path, data_root, seed=0)
    b, _ = run(tmp_path, data_root, seed=1)
    assert a["history"]["w_dist"][-1] != b["history"]["w_dist"][-1]


def test_steps_follow_batches_and_last_batch_rule(tmp_path, data_root):
    keep, _ = run(tmp_path, data_root, phases=(Phase(1, 64, 0.01),), snapshots=())
    drop, _ = run(tmp_path, data_root, phases=(Phase(1, 64, 0.01),), snapshots=(), drop_last=True)
    assert keep["steps"] == math.ceil(600 / 64) == 10 and drop["steps"] == 600 // 64 == 9


def test_phases_switch_batch_size_and_lr(tmp_path, data_root):
    rec, _ = run(tmp_path, data_root, phases=(Phase(1, 300, 0.01), Phase(2, 100, 0.1)), snapshots=())
    h = rec["history"]
    assert h["epoch"] == [0, 1, 2, 3]
    assert h["batch_size"][1:] == [300, 100, 100] and h["lr"][1:] == [0.01, 0.1, 0.1]
    assert h["step"] == [0, 2, 8, 14]


def test_record_geometry_matches_the_snapshots(tmp_path, data_root):
    rec, t = run(tmp_path, data_root)
    p0, p2 = t["epoch0"], t["epoch2"]
    assert p0[1].abs().sum() == 0  # Glorot: zero biases at the start
    g = geometry.snapshot(p2, p0)
    assert rec["history"]["w_dist"][-1] == pytest.approx(g["w_dist"])
    assert rec["history"]["cos"][-1] == pytest.approx(g["cos"])
    assert rec["history"]["w_dist"][0] == 0 and rec["history"]["cos"][0] == pytest.approx([1, 1, 1])
    assert geometry.norm(model.weights(p0)) == pytest.approx(43.95, rel=0.003)


def test_training_learns(tmp_path, data_root):
    rec, _ = run(tmp_path, data_root, phases=(Phase(3, 32, 0.05),), snapshots=())
    acc = rec["history"]["test_acc"]
    assert acc[0] < 0.3 < 0.75 < acc[-1]


def test_eval_every_skips_epochs_but_not_the_last(tmp_path, data_root):
    rec, _ = run(tmp_path, data_root, phases=(Phase(5, 200, 0.01),), eval_every=2, snapshots=())
    acc = rec["history"]["test_acc"]
    assert [math.isnan(a) for a in acc] == [False, True, False, True, False, False]
    assert trainer.final(rec, "test_acc") == acc[-1]


@pytest.mark.parametrize("kw, message", [
    (dict(phases=(Phase(1, 64, 0.01),), optimizer="rmsprop"), "unknown optimizer"),
    (dict(phases=(Phase(1, 64, 0.01),), scaling="minmax"), "unknown input scaling"),
    (dict(phases=(Phase(1, 64, 0.01),), dataset="cifar"), "unknown dataset"),
    (dict(phases=(Phase(1, 64, 0.01),), snapshots=(5,)), "outside the run"),
    (dict(phases=()), "at least one phase"),
])
def test_bad_configs_are_clear_errors(kw, message):
    with pytest.raises(ConfigError, match=message):
        RunConfig(**kw)


@pytest.mark.parametrize("args, message", [((1, 0, 0.01), "batch size"), ((1, 64, 0.0), "learning rate"),
                                           ((1, 64, -1.0), "learning rate"), ((0, 64, 0.01), "epochs"),
                                           ((1, 64, float("nan")), "learning rate")])
def test_bad_phases_are_clear_errors(args, message):
    with pytest.raises(ConfigError, match=message):
        Phase(*args)
