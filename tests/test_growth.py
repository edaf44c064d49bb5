"""L5's model comparison (harness/growth.py) on curves whose law is known."""
import math

import numpy as np
import pytest

from harness import growth

T = np.arange(1, 241) * 8.0  # steps at the end of each epoch, as in a 240-epoch BS1024 run


def test_log_spaced_points_cover_each_decade_alike():
    idx = growth.log_spaced(np.arange(1, 16) * 125.0)
    assert idx[0] == 0 and idx[-1] == 14 and len(idx) == len(set(idx))
    picked = growth.log_spaced(T)
    assert len(picked) == growth.N_POINTS and (np.diff(np.log(T[picked])) > 0.25).all()


def test_fits_recover_their_own_law():
    (a, b), rss = growth.fit_log(T, 0.5 + 0.7 * np.log(T))
    assert (a, b) == pytest.approx((0.5, 0.7)) and rss < 1e-20
    (c, alpha), rss = growth.fit_power(T, 0.02 * T ** 0.4)
    assert (c, alpha) == pytest.approx((0.02, 0.4), rel=1e-6) and rss < 1e-12


@pytest.mark.parametrize("law, favours", [("log", +1), ("power", -1)])
def test_aic_picks_the_law_that_made_the_curve(law, favours):
    rng = np.random.default_rng(0)
    clean = 0.5 + 0.7 * np.log(T) if law == "log" else 0.05 * T ** 0.6
    d = clean * (1 + 0.002 * rng.standard_normal(len(T)))
    out = growth.compare(np.concatenate([[0.0], T]), np.concatenate([[0.0], d]))  # t = 0 is dropped
    assert out["n"] == growth.N_POINTS
    assert favours * out["delta_aic"] > 10


def test_delta_aic_is_n_log_of_the_rss_ratio():
    assert growth.delta_aic(10, 2.0, 1.0) == pytest.approx(10 * math.log(2))
    assert math.isfinite(growth.delta_aic(10, 1.0, 0.0))
