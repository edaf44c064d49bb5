"""The protocol builders the claims use (harness/protocol.py), against the
RunConfigs written out by hand from the post's protocol and the scales: two
claims asking for the same run must get the same config (one cache entry),
and the quick scale must keep the ratios the findings rest on."""
import pytest

from harness import protocol, scales
from harness.errors import NotAtThisScale
from harness.trainer import Phase, RunConfig

Q, P = scales.QUICK, scales.PAPER
QUICK_SUBSETS = dict(train_subset=8000, test_subset=4000, train_eval_subset=4000)
PAPER_SUBSETS = dict(train_subset=None, test_subset=None, train_eval_subset=10000)


def test_grad_start_epochs_and_equal_steps():
    assert protocol.grad_start_epochs(P) == (2, 30) and protocol.grad_start_epochs(Q) == (1, 15)
    assert protocol.equal_steps_epochs(30, 64, 1024) == 480   # F9's arm: as many steps as BS64 x30
    assert protocol.equal_steps_epochs(30, 64, 256) == 120
    # the steps really are equal at paper scale: 480 x 60000/1024 vs 30 x 60000/64
    assert 480 * 60000 / 1024 == 30 * 60000 / 64
    assert (protocol.GRAD_START_BS, protocol.GRAD_START_LR) == (1024, 0.01)


@pytest.mark.parametrize("scale, subsets, epochs, snaps", [(P, PAPER_SUBSETS, 30, (2, 30)),
                                                           (Q, QUICK_SUBSETS, 15, (1, 15))])
def test_sgd_and_adam_runs(scale, subsets, epochs, snaps):
    # the gradient experiment's start run keeps its two snapshots; nothing else does
    assert protocol.sgd(scale, 1024, 0.01, 3) == RunConfig(phases=(Phase(epochs, 1024, 0.01),), seed=3,
                                                           snapshots=snaps, eval_every=1, **subsets)
    assert protocol.sgd(scale, 64, 0.01, 0) == RunConfig(phases=(Phase(epochs, 64, 0.01),), seed=0, **subsets)
    assert protocol.sgd(scale, 1024, 0.1, 0).snapshots == ()
    assert protocol.adam(scale, 1024, 0.01, 1) == RunConfig(phases=(Phase(epochs, 1024, 0.01),), seed=1,
                                                            optimizer="adam", **subsets)
    assert protocol.sgd(scale, 64, 0.01, 0).scaling == "standard"   # the post's protocol by default
    assert protocol.sgd(scale, 64, 0.01, 0, scaling="x255").scaling == "x255"


def test_long_arm_epochs_and_evaluations():
    long_p = protocol.sgd(P, 1024, 0.01, 0, epochs=480)
    assert long_p.phases == (Phase(480, 1024, 0.01),) and long_p.snapshots == ()
    assert long_p.eval_every == 16            # at most 30 evaluations: ceil(480 / 30)
    long_q = protocol.sgd(Q, 1024, 0.01, 0, epochs=480)
    assert long_q.phases == (Phase(240, 1024, 0.01),) and long_q.eval_every == 8


def test_schedule_scales_every_phase():
    s = protocol.schedule(Q, 2, [(15, 64, 0.01), (15, 1024, 0.1)])
    assert s == RunConfig(phases=(Phase(8, 64, 0.01), Phase(8, 1024, 0.1)), seed=2, **QUICK_SUBSETS)
    s = protocol.schedule(P, 2, [(2, 64, 0.01), (28, 1024, 0.01)], optimizer="adam")
    assert s.phases == (Phase(2, 64, 0.01), Phase(28, 1024, 0.01)) and s.optimizer == "adam"
    assert protocol.schedule(Q, 0, [(1, 64, 0.01)]).phases == (Phase(1, 64, 0.01),)  # never 0 epochs


def test_runs_is_one_config_per_seed_and_equal_configs_share_a_key():
    rs = protocol.runs(Q, [0, 1, 2], "sgd", 256, 0.01)
    assert rs == [protocol.sgd(Q, 256, 0.01, s) for s in (0, 1, 2)]
    assert protocol.runs(Q, [4], "adam", 64, 0.01) == [protocol.adam(Q, 64, 0.01, 4)]
    from harness.cache import spec_key
    assert spec_key(protocol.runs(Q, [1], "sgd", 64, 0.01)[0]) == spec_key(protocol.sgd(Q, 64, 0.01, 1))


def test_check_keeps_long_arms_with_default_scaling_only_at_quick_scale():
    protocol.check(Q, 30, "x255")
    protocol.check(Q, 480, "standard")
    protocol.check(P, 480, "x255")
    with pytest.raises(NotAtThisScale, match="480-epoch arm with x255 inputs runs at paper scale only"):
        protocol.check(Q, 480, "x255")
    with pytest.raises(NotAtThisScale):
        protocol.runs(Q, [0], "sgd", 1024, 0.01, epochs=480, scaling="x255")


def test_table_runs_are_the_norm_table_rows():
    assert protocol.table_runs(Q, [0, 1], "SGD BS64") == protocol.runs(Q, [0, 1], "sgd", 64, 0.01)
    assert protocol.table_runs(P, [0], "Adam BS64") == [protocol.adam(P, 64, 0.01, 0)]
    assert protocol.table_runs(P, [0], "SGD BS1024 lr 0.1", "x255") == \
        [protocol.sgd(P, 1024, 0.1, 0, scaling="x255")]
    long = protocol.table_runs(Q, [0], "SGD BS1024 480 epochs")[0]
    assert long == protocol.sgd(Q, 1024, 0.01, 0, epochs=480) and long.epochs == 240
    with pytest.raises(NotAtThisScale):
        protocol.table_runs(Q, [0], "SGD BS1024 480 epochs", "x255")
    assert len(protocol.table_runs(P, [0], "SGD BS1024 480 epochs", "x255")) == 1
