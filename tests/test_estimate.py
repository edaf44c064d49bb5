"""The paper-scale time estimate (harness/estimate.py): the interpolation on
known numbers, and the estimate of a short real run against its measured time."""
import time

import pytest

from harness import data, estimate, trainer
from harness.trainer import Phase, RunConfig


def test_step_seconds_interpolates_time_per_sample_in_log_batch_size():
    calib = {1: 1e-3, 4: 2e-3, 64: 8e-3}
    for b, t in calib.items():
        assert estimate.step_seconds(calib, b) == pytest.approx(t)
    # between 1 and 4 (per sample 1e-3 and 5e-4), halfway in log: 7.5e-4 per sample
    assert estimate.step_seconds(calib, 2) == pytest.approx(2 * 7.5e-4)
    # outside the calibrated range: the end point's time per sample
    assert estimate.step_seconds(calib, 1024) == pytest.approx(1024 * 8e-3 / 64)
    assert estimate.describe(3725) == "1 h 02 min" and estimate.describe(65) == "1 min 05 s"


def test_estimate_of_a_short_run_is_within_a_factor_2_of_its_measured_time(tmp_path, mnist_root):
    """calibrate() times engine steps at 6 batch sizes (here 0.1 s each); the
    estimate of a two-phase run (BS64 then BS256 over 4000 images, with its
    evaluations) must lie within a factor 2 of the measured training time, data
    already loaded. Why 2: the estimate leaves out the per-epoch geometry and
    Python overhead and takes an evaluation as a third of a step (measured
    alone: estimate / measured 0.74-0.79, 3 runs, 1 thread, load ~4). Under
    xdist the other worker (and the subprocess sessions of test_faults) load
    the same cores in bursts, so calibration and run are each done twice,
    alternating, and the faster of each is compared: a burst that hits one
    of them does not decide the ratio."""
    cfg = RunConfig(phases=(Phase(1, 64, 0.01), Phase(1, 256, 0.01)), train_subset=4000, test_subset=1000,
                    train_eval_subset=1000)
    data.load(cfg.dataset, cfg.scaling, "cpu", mnist_root)  # loading is not part of the estimate
    calibs, runs = [], []
    for _ in range(2):
        calibs.append(estimate.calibrate("cpu", budget_s=0.1))
        t0 = time.perf_counter()
        trainer.train(cfg, "cpu", mnist_root, tmp_path)
        runs.append(time.perf_counter() - t0)
    assert sorted(calibs[0]) == list(estimate.CALIBRATION_BS) and all(t > 0 for t in calibs[0].values())
    calib = {b: min(c[b] for c in calibs) for b in calibs[0]}
    measured = min(runs)
    est = estimate.seconds(cfg, calib)
    assert est == cfg.estimate_seconds(calib)
    assert measured / 2 < est < measured * 2, (est, measured, runs)
