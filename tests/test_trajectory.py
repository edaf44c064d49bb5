"""The equal-loss rule of F8 and the direction rules of F12, fed synthetic
records whose answer is known: each rule must fail on its null and pass on
its alternative, and the radial fraction read from a real run's record must
equal the one its weight tensors give."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from claims import test_f8_distance_grid as f8
from claims import test_f12_sphere_and_cosines as f12
from harness import geometry, model, trajectory
from harness.trainer import Phase, RunConfig

# Six synthetic "grid cells": each falls in train loss at its own speed and
# travels its own distance per unit of progress (as lr and batch size do); as
# in the real grid, the faster cells also reach farther.
SPEEDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4)
REACH = (1.0, 1.3, 1.2, 1.8, 1.6, 2.4)
EPOCHS = 15


def history(speed, reach, accuracy, seed, noise=0.002):
    """Per epoch: train loss exp-decaying at `speed`, W = reach * progress,
    test accuracy = accuracy(loss, W) plus a little noise."""
    rng = np.random.default_rng(seed)
    epochs = np.arange(EPOCHS + 1)
    loss = 0.02 + 2.3 * np.exp(-speed * epochs)
    progress = np.log(2.32 / loss)
    w = reach * progress
    acc = accuracy(loss, w) + noise * rng.standard_normal(len(epochs))
    return {"epoch": list(epochs), "train_loss": list(loss), "w_dist": list(w), "test_acc": list(acc)}


def grid_histories(accuracy, seeds=3, noise=0.002):
    return [[history(s, r, accuracy, 100 * k + i, noise) for i, (s, r) in enumerate(zip(SPEEDS, REACH))]
            for k in range(seeds)]


def by_loss(loss, w):
    """The null: accuracy is a function of the train loss alone."""
    return 0.99 - 0.1 * np.log1p(loss)


def by_distance(loss, w):
    """The alternative: accuracy follows distance, whatever the loss."""
    return 0.80 + 0.03 * w


def test_equal_loss_rule_is_contradicted_when_accuracy_follows_the_loss_alone():
    v = f8.equal_loss_verdict(grid_histories(by_loss))
    assert v.verdict == "contradicted", v
    assert abs(v.effect) < 0.2, v


def test_equal_loss_rule_is_supported_when_accuracy_follows_distance():
    v = f8.equal_loss_verdict(grid_histories(by_distance))
    assert v.verdict == "supported", v
    assert v.effect == pytest.approx(1.0, abs=0.1)


def test_the_final_solutions_alone_cannot_tell_the_two_apart():
    """Why the Spearman reading is secondary: its rho is 1 under the null too."""
    for accuracy in (by_loss, by_distance):
        hs = grid_histories(accuracy, seeds=1, noise=0.0)[0]
        final_w = [h["w_dist"][-1] for h in hs]
        final_a = [h["test_acc"][-1] for h in hs]
        assert stats.spearmanr(final_w, final_a).statistic == pytest.approx(1.0)
        assert trajectory.final_slope(hs) > 0


def test_at_loss_interpolates_in_log_loss_and_skips_epoch_zero():
    h = {"epoch": [0, 1, 2, 3], "train_loss": [2.3, 1.0, 0.1, 0.01], "w_dist": [0.0, 1.0, 2.0, 3.0],
         "test_acc": [0.1, 0.5, 0.8, 0.9]}
    p = trajectory.at_loss(h, math.sqrt(0.1))  # halfway between epochs 1 and 2 in log loss
    assert p["w_dist"] == pytest.approx(1.5) and p["test_acc"] == pytest.approx(0.65)
    assert trajectory.at_loss(h, 1.5) is None    # only the init lies above: not bracketed from epoch 1 on
    assert trajectory.at_loss(h, 0.001) is None  # never reached


def test_at_loss_takes_the_first_crossing_and_skips_unevaluated_epochs():
    nan = math.nan
    h = {"epoch": [0, 1, 2, 3, 4], "train_loss": [2.3, 1.0, nan, 0.1, 0.5], "w_dist": [0, 1, nan, 3, 4],
         "test_acc": [0.1, 0.5, nan, 0.7, 0.6]}
    p = trajectory.at_loss(h, math.sqrt(0.1))
    assert p["w_dist"] == pytest.approx(2.0)  # between epochs 1 and 3, not on the way back up


# -- F12 ---------------------------------------------------------------------------------
def record(w0, w):
    """A record's geometry columns at epoch 0 and at the end, from vectors per layer."""
    flat0, flat = torch.cat([t.flatten() for t in w0]), torch.cat([t.flatten() for t in w])
    return {"history": {
        "w_norm": [flat0.norm().item(), flat.norm().item()], "w_dist": [0.0, (flat - flat0).norm().item()],
        "w_norm_layers": [[t.norm().item() for t in w0], [t.norm().item() for t in w]],
        "cos": [[1.0] * len(w), [geometry.cosine(a, b) for a, b in zip(w, w0)]]}}


def layers(gen, sizes=(3000, 4000, 500)):
    return [torch.randn(n, generator=gen, dtype=torch.float64) for n in sizes]


def test_radial_rule_is_contradicted_for_a_move_along_w0():
    """The alternative the post denies: learning that rescales the weights."""
    g = torch.Generator().manual_seed(0)
    recs = []
    for scale in (1.10, 1.12, 1.15):
        w0 = layers(g)
        w = [scale * t + 0.02 * torch.randn(t.shape, generator=g, dtype=torch.float64) for t in w0]
        recs.append(record(w0, w))
    v = f12.radial_verdict(recs)
    assert v.verdict == "contradicted" and v.effect > 0.9, v


def test_radial_rule_is_supported_for_a_move_orthogonal_to_w0():
    g = torch.Generator().manual_seed(1)
    recs = []
    for _ in range(3):
        w0 = layers(g)
        d = [torch.randn(t.shape, generator=g, dtype=torch.float64) for t in w0]
        d = [x - (x @ t) / (t @ t) * t for x, t in zip(d, w0)]  # orthogonal to w0, layer by layer
        recs.append(record(w0, [t + 0.3 * x for t, x in zip(w0, d)]))
    v = f12.radial_verdict(recs)
    assert v.verdict == "supported" and abs(v.effect) < 1e-6, v
    assert np.abs(f12.layer_rhos(recs)).max() < 1e-6


def test_layer_radial_fractions_match_the_vectors():
    g = torch.Generator().manual_seed(2)
    w0 = layers(g)
    w = [(1.0 + 0.1 * i) * t + torch.randn(t.shape, generator=g, dtype=torch.float64) for i, t in enumerate(w0)]
    rec = record(w0, w)
    direct = [float((a - b) @ b / ((a - b).norm() * b.norm())) for a, b in zip(w, w0)]
    assert trajectory.layer_radial_fractions(rec) == pytest.approx(direct, abs=1e-9)
    flat0, flat = torch.cat(w0), torch.cat(w)
    whole = float((flat - flat0) @ flat0 / ((flat - flat0).norm() * flat0.norm()))
    assert trajectory.radial_fraction_of(rec) == pytest.approx(whole, abs=1e-9)


def test_orthogonal_norm_is_the_distance_alone():
    assert trajectory.orthogonal_norm(44.0, 14.0) / 44.0 - 1 == pytest.approx(0.0492, abs=1e-3)


def test_second_layer_rule_calls_a_lead_under_ten_percent_a_tie():
    tie = np.array([[0.9996, 0.99962, 0.994]] * 3) + np.array([[0, 1e-6, 0], [0, 2e-6, 0], [0, 0, 0]])
    assert f12.second_layer_verdict(tie).verdict == "contradicted"  # layer 2 loses 95% as much: a tie
    lead = np.array([[0.988, 0.993, 0.928], [0.989, 0.993, 0.930], [0.991, 0.994, 0.936]])  # the post's rows
    assert f12.second_layer_verdict(lead).verdict == "supported"


def test_radial_fraction_of_a_real_run_matches_its_tensors(short_run_record):
    rec, w0, w = short_run_record
    flat0, flat = torch.cat([t.double().flatten() for t in w0]), torch.cat([t.double().flatten() for t in w])
    d = flat - flat0
    assert trajectory.radial_fraction_of(rec) == pytest.approx(float(d @ flat0 / (d.norm() * flat0.norm())),
                                                               abs=1e-5)
    direct = [float(((a - b).double().flatten() @ b.double().flatten())
                    / ((a - b).double().norm() * b.double().norm())) for a, b in zip(w, w0)]
    assert trajectory.layer_radial_fractions(rec) == pytest.approx(direct, abs=1e-4)


@pytest.fixture(scope="module")
def short_run_record(fresh_ctx):
    """A short real SGD run at a large lr (so that it moves), trained on an empty temporary cache."""
    run = RunConfig(phases=(Phase(2, 128, 0.1),), seed=0, train_subset=2000, test_subset=500,
                    train_eval_subset=500, snapshots=(0, 2))
    (entry,) = fresh_ctx.results([run])
    return entry["record"], model.weights(entry["tensors"]["epoch0"]), model.weights(entry["tensors"]["epoch2"])
