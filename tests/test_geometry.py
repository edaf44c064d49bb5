"""The geometry the F8-F12 claims read: the law-of-cosines identity between
norms, distance and cosine (checked on real, short training runs, trained on a
fresh temporary cache: tests/conftest.py's fresh_ctx), and the curve-shape
helpers. The initial norms are tests/test_model.py's."""
import math

import numpy as np
import pytest
import torch

from harness import geometry, model, verdicts
from harness.trainer import Phase, RunConfig


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
def short_run(request, fresh_ctx):
    """Trained now, on an empty temporary cache: the trainer and engine run."""
    (entry,) = fresh_ctx.results([SHORT_RUNS[request.param]])
    assert entry["record"]["wall_s"] > 0 and entry["record"]["history"]["epoch"] == [0, 1, 2]
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
    """Over all weights together, at every logged epoch, two independent routes
    to the cosine between W and W0 agree: the law of cosines on the record's
    |W|, |W0| and distance, and the per-layer cosines recombined with the
    per-layer norms, cos = sum_l cos_l |W_l| |W0_l| / (|W| |W0|). At the last
    epoch both also equal the cosine of the concatenated snapshot tensors."""
    name, rec, tensors = short_run
    h = rec["history"]
    w0 = torch.cat([t.flatten() for t in model.weights(tensors["epoch0"])])
    w = torch.cat([t.flatten() for t in model.weights(tensors["epoch2"])])
    assert geometry.cosine_from_distance(h["w_norm"][-1], h["w_norm"][0], h["w_dist"][-1]) == \
        pytest.approx(geometry.cosine(w, w0), abs=1e-6)
    layers0 = h["w_norm_layers"][0]
    for e, (nw, dist, layers, cos) in enumerate(zip(h["w_norm"], h["w_dist"], h["w_norm_layers"], h["cos"])):
        law = geometry.cosine_from_distance(nw, h["w_norm"][0], dist)
        recombined = sum(c * a * b for c, a, b in zip(cos, layers, layers0)) / (nw * h["w_norm"][0])
        assert law == pytest.approx(recombined, abs=1e-6), (name, e)
        assert nw == pytest.approx(math.sqrt(sum(x * x for x in layers)), rel=1e-9)
    assert h["w_dist"][0] == 0.0 and h["cos"][0] == pytest.approx([1.0, 1.0, 1.0])


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
