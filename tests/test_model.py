"""Initialisation against analytic values."""
import math

import pytest
import torch

from harness import geometry, model
from harness.errors import ConfigError


def _bound(init, fan_in, fan_out):
    return math.sqrt(6 / (fan_in + fan_out)) if init == "glorot" else 1 / math.sqrt(fan_in)


def test_expected_glorot_norm_is_the_posts_44():
    total, layers = model.expected_glorot_norm()
    assert total == pytest.approx(43.95, abs=0.005)
    assert [round(x, 2) for x in layers] == [29.80, 32.00, 4.45]


@pytest.mark.parametrize("init", ["glorot", "torch"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_init_draws_match_their_distribution(init, seed):
    """Weights are U(-a, a): a = sqrt(6 / (fan_in + fan_out)) (Glorot) or
    1 / sqrt(fan_in) (torch). E w^2 = a^2 / 3 and Var w^2 = 4 a^4 / 45, so a
    layer's squared norm S has mean N a^2 / 3 and sd sqrt(N) 2 a^2 / sqrt(45),
    and its norm a relative sd of 3 / sqrt(45 N): 0.050%, 0.044% and 0.44% for
    the three layers. Each layer's norm, the total |W| (whose mean is
    expected_glorot_norm's 43.95 for Glorot, sqrt(2058 / 3) = 26.2 for torch)
    and the mean entry (sd a / sqrt(3N)) must lie within 4 sd; the largest
    |w| within a(1 - 20 / N) and a (probability of falling short: e^-20).
    Biases: zero for Glorot (so |B| at the end is the bias distance),
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for torch."""
    p = model.init_params(seed, init)
    fans = list(zip(model.WIDTHS[:-1], model.WIDTHS[1:]))
    assert [tuple(t.shape) for t in p] == [s for i, o in fans for s in ((o, i), (o,))]
    mean_s, var_s = 0.0, 0.0
    for (fan_in, fan_out), w, b in zip(fans, model.weights(p), model.biases(p)):
        a, n = _bound(init, fan_in, fan_out), fan_in * fan_out
        mean_s, var_s = mean_s + n * a * a / 3, var_s + n * 4 * a ** 4 / 45
        rel_sd = 3 / math.sqrt(45 * n)
        assert abs(geometry.norm([w]) / math.sqrt(n * a * a / 3) - 1) < 4 * rel_sd, (fan_in, fan_out)
        assert abs(w.double().mean().item()) < 4 * a / math.sqrt(3 * n)
        assert a * (1 - 20 / n) < w.abs().max().item() <= a
        if init == "glorot":
            assert b.abs().sum().item() == 0.0
        else:
            assert b.abs().max().item() <= 1 / math.sqrt(fan_in) and b.std().item() > 0
    total_rel_sd = math.sqrt(var_s) / (2 * mean_s)
    expected = model.expected_glorot_norm()[0] if init == "glorot" else math.sqrt(2058 / 3)
    assert expected == pytest.approx(math.sqrt(mean_s), rel=1e-12)
    assert abs(geometry.norm(model.weights(p)) / expected - 1) < 4 * total_rel_sd


def test_init_is_seeded_and_seeds_differ():
    a, b, c = model.init_params(7), model.init_params(7), model.init_params(8)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_unknown_init_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown init 'xavier'"):
        model.init_params(0, "xavier")
