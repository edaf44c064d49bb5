"""Every primary reading of F1, F2, F3, F9, F10 and F11 can fail: each claim's
own judging function, fed the data a broken harness would produce (the batch
size, the learning rate, the epoch count or the optimizer ignored; a switch
that changes nothing; a distance that grows in a straight line), must not call
it supported. Each test also feeds the claim's effect, so that a rule that can
never pass would show here too."""
import numpy as np
import pytest

from claims import test_f1_batch_size_accuracy as f1
from claims import test_f2_lr_recovers_accuracy as f2
from claims import test_f3_schedule_switch as f3
from claims import test_f9_reach_far_solutions as f9
from claims import test_f10_bounded_travel as f10
from claims import test_f11_adam as f11

SEEDS = 3
rng = np.random.default_rng(2018)
SEED_SHIFT = rng.normal(0.0, 0.3, SEEDS)  # what each seed's init and shuffle order add to every arm


def arm(level, noise=0.05):
    """Per-seed values of one arm: a level, the seeds' shared shift, a little noise of its own."""
    return list(level + SEED_SHIFT + rng.normal(0.0, noise, SEEDS))


# Quick-scale-like levels (points): BS64 lr 0.01, BS1024 lr 0.01, BS1024 lr 0.1
A64, A1024, A1024_LR = 94.3, 88.2, 93.9


def test_f1_batch_size_ignored():
    same = arm(A64)
    assert not f1.falls_with_batch_size({64: same, 256: same, 1024: same}).supported
    assert f1.falls_with_batch_size({64: arm(A64), 256: arm(91.0), 1024: arm(A1024)}).supported


def test_f2_learning_rate_ignored():
    base = arm(A1024)
    assert not f2.improves(base, base).supported
    assert f2.recovers(base, arm(A64)).verdict == "contradicted"
    assert f2.improves(arm(A1024_LR), base).supported
    assert f2.recovers(arm(A64 - 0.1), arm(A64)).supported


@pytest.mark.parametrize("schedule", f3.SWITCHED)
def test_f3_switch_that_changes_nothing(schedule):
    control = arm(90.0)
    trapped = arm(90.0)  # the switched run stays where the large batch left it
    assert f3.vs_reference(trapped, arm(A64), schedule).verdict == "contradicted"
    assert not f3.vs_control(control, control, schedule).supported  # batch size (or lr) ignored: all alike
    assert f3.vs_reference(arm(A64), arm(A64), schedule).supported
    assert f3.vs_control(arm(A64), control, schedule).supported


def test_f9_learning_rate_or_epochs_ignored():
    w64, w1024 = arm(6.75, 0.02), arm(2.73, 0.02)  # paper scale, one seed: BS64, BS1024 lr 0.01
    assert f9.reaches_far_distance(w1024).verdict == "contradicted"          # lr 0.1 arm = lr 0.01 arm
    assert f9.reaches_bs64_distance(w1024, w64).verdict == "contradicted"    # 16x arm = 30-epoch arm
    assert f9.reaches_bs64_accuracy(arm(A1024), arm(A64)).verdict == "contradicted"
    assert f9.reaches_far_distance(arm(5.93, 0.02)).supported
    assert f9.reaches_bs64_distance(arm(6.68, 0.02), w64).supported


def curve(w_final, shape, epochs=15):
    """A synthetic run record whose distance from init follows shape(t / T) * w_final."""
    t = np.arange(epochs + 1)
    w = w_final * shape(t / epochs) * (1 + rng.normal(0, 0.002, epochs + 1))
    w[0] = 0.0
    return {"history": {"epoch": list(t), "w_dist": list(w)}}


def test_f10_straight_or_stalled_distance():
    line = [f10.shape(curve(2.9, lambda u: u)) for _ in range(SEEDS)]
    stall = [f10.shape(curve(2.9, lambda u: np.minimum(u, 0.5) / 0.5)) for _ in range(SEEDS)]
    bend = [f10.shape(curve(2.9, np.sqrt)) for _ in range(SEEDS)]
    assert f10.rises_and_flattens(line).verdict == "contradicted"   # h = 0.5: no bend
    assert not f10.rises_and_flattens(stall).supported              # stops rising half way
    assert f10.rises_and_flattens(bend).supported
    w64 = arm(2.93, 0.02)
    assert f10.equal_distance(arm(1.23, 0.02), w64).verdict == "contradicted"  # epochs ignored
    assert f10.equal_distance(arm(2.90, 0.02), w64).supported


@pytest.mark.parametrize("quantity", ["W", "norm"])
def test_f11_optimizer_ignored(quantity):
    sgd = arm({"W": 2.9, "norm": 44.0}[quantity], 0.01)
    assert f11.much_larger(sgd, sgd, quantity).verdict == "contradicted"
    assert f11.much_larger([x * r for x, r in zip(sgd, (28, 31, 33))], sgd, quantity).supported
    acc = arm(A64)
    assert not f11.accuracy_below_sgd(acc, acc).supported
    assert f11.accuracy_below_sgd(arm(A64 - 2.0), acc).supported


def test_f11_late_accuracy_averages_the_last_sixth():
    acc = [0.1] + [0.90] * 12 + [0.80, 1.00, 0.90]  # epochs 0..15: 15 evaluated after the init, last 3 swing
    rec = {"history": {"epoch": list(range(16)), "test_acc": acc}}
    assert f11.late_accuracy(rec) == pytest.approx(90.0)  # ceil(15 / 6) = 3 epochs: (80 + 100 + 90) / 3
    paper = {"history": {"epoch": list(range(31)), "test_acc": [0.1] + [0.5] * 25 + [1.0] * 5}}
    assert f11.late_accuracy(paper) == pytest.approx(100.0)  # 5 of the post's 30 epochs
