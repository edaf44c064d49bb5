"""Initialisation against analytic values."""
import math

import pytest
import torch

from harness import geometry, model
from harness.errors import ConfigError


def test_expected_glorot_norm_is_the_posts_44():
    total, layers = model.expected_glorot_norm()
    assert total == pytest.approx(43.95, abs=0.005)
    assert [round(x, 2) for x in layers] == [29.80, 32.00, 4.45]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_glorot_draw_has_the_expected_norm_and_zero_biases(seed):
    p = model.init_params(seed, "glorot")
    assert [tuple(t.shape) for t in p] == [(1024, 784), (1024,), (1024, 1024), (1024,), (10, 1024), (10,)]
    # 1.86M entries: the norm of a draw is within a fraction of a percent of its expectation
    assert geometry.norm(model.weights(p)) == pytest.approx(43.95, rel=0.003)
    assert geometry.norm(model.biases(p)) == 0.0
    a = math.sqrt(6 / (784 + 1024))
    assert p[0].abs().max() <= a


def test_torch_default_init_norm_is_26():
    p = model.init_params(0, "torch")
    assert geometry.norm(model.weights(p)) == pytest.approx(26.2, rel=0.01)
    assert geometry.norm(model.biases(p)) > 0


def test_init_is_seeded_and_seeds_differ():
    a, b, c = model.init_params(7), model.init_params(7), model.init_params(8)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_unknown_init_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown init 'xavier'"):
        model.init_params(0, "xavier")
