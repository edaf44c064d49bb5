"""The geometry the F8-F12 claims read: the Glorot initial norms the post's
"about 44" rests on, the law-of-cosines identity between norms, distance and
cosine (checked on real, short training runs), and the curve-shape helpers."""
import math

import numpy as np
import pytest
import torch

from harness import geometry, model, verdicts
from harness.errors import DataError
from harness.trainer import Phase, RunConfig


# -- initial norms ----------------------------------------------------------------
def test_expected_glorot_norms():
    total, layers = model.expected_glorot_norm()
    assert round(total, 2) == 43.95
    assert [round(x, 2) for x in layers] == [29.80, 32.00, 4.45]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_drawn_glorot_norms_match_expectation(seed):
    params = model.init_params(seed, "glorot")
    total, layers = model.expected_glorot_norm()
    got = [geometry.norm([w]) for w in model.weights(params)]
    # relative sd of a layer's norm is sqrt(0.8 / entries) / 2: 0.05% for 1024x784, 0.44% for 10x1024
    assert got[0] == pytest.approx(layers[0], rel=0.005)
    assert got[1] == pytest.approx(layers[1], rel=0.005)
    assert got[2] == pytest.approx(layers[2], rel=0.02)
    assert geometry.norm(model.weights(params)) == pytest.approx(total, rel=0.005)
    assert geometry.norm(model.biases(params)) == 0.0  # zero biases: final |B| = bias distance


def test_torch_default_init_norm_is_26():
    # kaiming-uniform(a=sqrt 5): E w^2 = 1 / (3 fan_in), so |W|^2 = sum fan_out / 3 = 2058 / 3
    params = model.init_params(0, "torch")
    assert geometry.norm(model.weights(params)) == pytest.approx(math.sqrt(2058 / 3), rel=0.01)
    assert round(math.sqrt(2058 / 3), 1) == 26.2


# -- the law of cosines -------------------------------------------------------------
# geometry.distance subtracts in the tensors' float32 before summing in float64, so
# the identity holds to ~1e-7 relative in d; 1e-6 on a cosine is far below the 0.01
# the fidelity rows compare at.
def test_cosine_from_distance_on_random_vectors():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        a, b = torch.randn(500, generator=g), torch.randn(500, generator=g) * 3 + 0.5
        d = geometry.distance([a], [b])
        assert geometry.cosine_from_distance(geometry.norm([a]), geometry.norm([b]), d) == \
            pytest.approx(geometry.cosine(a, b), abs=1e-6)
    a = torch.randn(100, generator=g)
    assert geometry.cosine_from_distance(geometry.norm([a]), geometry.norm([a]), 0.0) == pytest.approx(1.0)
    assert geometry.cosine_from_distance(geometry.norm([a]), geometry.norm([a]), 2 * geometry.norm([a])) == \
        pytest.approx(-1.0)


SHORT_RUNS = {  # small but real: SGD stays near its init (cos ~ 1), Adam leaves it (cos well below 1)
    "sgd": RunConfig(phases=(Phase(2, 128, 0.1),), seed=0, train_subset=2000, test_subset=500,
                     train_eval_subset=500, snapshots=(0, 2)),
    "adam": RunConfig(phases=(Phase(2, 64, 0.01),), seed=1, optimizer="adam", train_subset=2000, test_subset=500,
                      train_eval_subset=500, snapshots=(0, 2)),
}


@pytest.fixture(scope="module", params=list(SHORT_RUNS))
def short_run(request, ctx):
    try:
        (entry,) = ctx.results([SHORT_RUNS[request.param]])
    except DataError as e:
        pytest.skip(f"MNIST not available: {e}")
    return request.param, entry["record"], entry["tensors"]


def test_identity_holds_per_layer_on_real_runs(short_run):
    name, rec, tensors = short_run
    w0, w = model.weights(tensors["epoch0"]), model.weights(tensors["epoch2"])
    h = rec["history"]
    for i, (a, b) in enumerate(zip(w, w0)):
        na, nb, d = geometry.norm([a]), geometry.norm([b]), geometry.distance([a], [b])
        law = geometry.cosine_from_distance(na, nb, d)
        assert law == pytest.approx(geometry.cosine(a, b), abs=1e-6), f"{name} layer {i + 1}"
        # the record logs the same per-layer norms and cosines the tensors give
        assert h["cos"][-1][i] == pytest.approx(law, abs=1e-6)
        assert h["w_norm_layers"][-1][i] == pytest.approx(na, rel=1e-9)
        assert h["w_norm_layers"][0][i] == pytest.approx(nb, rel=1e-9)
    assert h["w_dist"][-1] == pytest.approx(geometry.distance(w, w0), rel=1e-9)
    if name == "adam":
        assert min(h["cos"][-1]) < 0.99  # the identity was exercised away from cos = 1
    else:
        assert min(h["cos"][-1]) > 0.9


def test_identity_holds_for_all_weights_at_every_epoch(short_run):
    """Over all weights together: |W|, |W0| and W from the record give the
    cosine of the concatenated vectors, at every logged epoch."""
    name, rec, tensors = short_run
    h = rec["history"]
    w0 = torch.cat([t.flatten() for t in model.weights(tensors["epoch0"])])
    w = torch.cat([t.flatten() for t in model.weights(tensors["epoch2"])])
    assert geometry.cosine_from_distance(h["w_norm"][-1], h["w_norm"][0], h["w_dist"][-1]) == \
        pytest.approx(geometry.cosine(w, w0), abs=1e-6)
    for nw, dist, layers in zip(h["w_norm"], h["w_dist"], h["w_norm_layers"]):
        c = geometry.cosine_from_distance(nw, h["w_norm"][0], dist)
        assert -1 - 1e-9 <= c <= 1 + 1e-9
        assert nw == pytest.approx(math.sqrt(sum(x * x for x in layers)), rel=1e-9)
    assert h["w_dist"][0] == 0.0 and h["w_norm"][0] == pytest.approx(model.expected_glorot_norm()[0], rel=0.005)


# -- curve shape helpers (F10, F11) and the rank-correlation verdict (F8) ----------
def test_half_time_fraction():
    t = np.arange(0, 7)
    assert geometry.half_time_fraction(t, 2.0 * t) == pytest.approx(0.5)
    assert geometry.half_time_fraction(t, np.sqrt(t)) == pytest.approx(math.sqrt(3 / 6))
    assert geometry.half_time_fraction(t, t ** 2.0) == pytest.approx(0.25)


def test_fit_r2_prefers_the_right_shape():
    t = np.arange(0, 31, dtype=float)
    lin = geometry.fit_r2(t, 0.3 * t)
    log = geometry.fit_r2(t, np.log1p(t))
    assert lin["linear"] == pytest.approx(1.0) and lin["linear"] > lin["log"]
    assert log["log"] > log["linear"]


def test_distance_at_steps_interpolates():
    rec = {"history": {"step": [0, 10, 20], "w_dist": [0.0, 1.0, 1.5]}}
    assert geometry.distance_at_steps(rec, [5, 10, 15, 20]) == pytest.approx([0.5, 1.0, 1.25, 1.5])


def test_rank_correlation_verdicts():
    rng = np.random.default_rng(0)
    xs = [rng.normal(m, 0.01, 3) for m in range(6)]
    up = verdicts.rank_correlation(xs, [x * 2 for x in xs], 0.5)
    down = verdicts.rank_correlation(xs, [-x for x in xs], 0.5)
    one_seed = verdicts.rank_correlation([x[:1] for x in xs], [x[:1] for x in xs], 0.5)
    assert up.verdict == "supported" and up.effect == pytest.approx(1.0)
    assert down.verdict == "contradicted" and down.effect == pytest.approx(-1.0)
    assert one_seed.verdict == "inconclusive"


def test_all_of():
    s = verdicts.greater(1.0, (0.5, 1.5))
    c = verdicts.greater(-1.0, (-1.5, -0.5))
    i = verdicts.greater(0.0, (-0.5, 0.5))
    assert verdicts.all_of([s, s]).verdict == "supported"
    assert verdicts.all_of([s, i]).verdict == "inconclusive"
    assert verdicts.all_of([i, c]).verdict == "contradicted"
