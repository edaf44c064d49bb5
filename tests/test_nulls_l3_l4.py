"""Every primary reading of L3 and L4 can fail: each claim's own judging
function, fed the data a broken harness would produce (the batch size or the
learning rate ignored), must not call it supported; fed the claimed effect,
it must (a rule that can never pass would show here too)."""
import numpy as np

from claims import test_l3_sharpness as l3
from claims import test_l4_batch_growth_instead_of_decay as l4

SEEDS = 3
rng = np.random.default_rng(2017)
SEED_SHIFT = rng.normal(0.0, 0.3, SEEDS)  # what each seed's init and shuffle order add to every arm


def arm(level, noise=0.05):
    """Per-seed values of one arm: a level, the seeds' shared shift, a little noise of its own."""
    return list(level + SEED_SHIFT + rng.normal(0.0, noise, SEEDS))


def test_l3_batch_size_ignored():
    """BS1024 is BS64: one log2 lambda for both, and no gap to close."""
    same = arm(5.0)
    assert l3.sharper(same, arm(5.0)).verdict == "contradicted"
    assert l3.sharper(arm(6.5), arm(5.0)).supported  # 2.8x as sharp


def test_l3_learning_rate_ignored():
    """The lr 0.16 arm is the lr 0.01 arm: as sharp as the large batch, here 3x BS64 (where the large
    batch is under 2x as sharp, as at quick scale, this null passes "follows lr/B": "sharper" covers it)."""
    names = l3.EQUAL_NOISE["BS1024 lr 0.16"]
    assert l3.as_sharp(arm(6.6), arm(5.0), names).verdict == "contradicted"
    assert l3.as_sharp(arm(5.2), arm(5.0), names).supported


def test_l3_an_unconverged_estimate_is_inconclusive():
    v = l3.as_sharp(arm(5.2), arm(5.0), ("a", "b"))
    arms = {"a": {"sharpness": [{"residual": 1e-4}] * 2 + [{"residual": 0.2}]}}
    out = l3.unless_unconverged(v, arms)
    assert out.verdict == "inconclusive" and out.effect == v.effect and "a (0.2)" in out.detail
    assert l3.unless_unconverged(v, {"a": {"sharpness": [{"residual": 1e-4}]}}) is v


def test_l4_batch_size_ignored():
    """The growing batch stays at BS64 lr 0.1, i.e. it is the constant-lr control: where the decay
    matters (a point here) it is contradicted; where it does not, inconclusive; and as many updates."""
    decayed, constant = arm(96.0), arm(95.0)
    assert l4.same_accuracy(constant, decayed, constant, "end").verdict == "contradicted"
    assert l4.same_accuracy(arm(96.1), decayed, constant, "end").supported
    flat = arm(96.0)  # the decay changes nothing: the schedules cannot be told apart
    assert l4.same_accuracy(flat, arm(96.0), flat, "end").verdict == "inconclusive"
    assert not l4.fewer_updates([1.0] * SEEDS).supported  # exactly as many: on the threshold
    assert l4.fewer_updates([1.2] * SEEDS).verdict == "contradicted"
    assert l4.fewer_updates([0.6] * SEEDS).supported


def test_l4_schedules_keep_equal_noise_scale_and_share_their_first_phase():
    decay, grow = l4.SCHEDULES["decaying lr"], l4.SCHEDULES["growing batch"]
    assert [lr / bs for _, bs, lr in decay] == [lr / bs for _, bs, lr in grow]
    assert decay[0] == grow[0] and [e for e, _, _ in decay] == [e for e, _, _ in grow]
    assert sum(l4.PHASE_EPOCHS) == 30  # the control's epochs: F8's BS64 lr 0.1 run
