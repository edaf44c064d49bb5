"""How long will this take? A short calibration of the engine on this machine
(a few steps at a handful of batch sizes, ~2 s) turns the specs still missing
from the cache into an estimate of wall time, printed before a long run."""
import math
import time

import torch

from . import engine, model

CALIBRATION_BS = (1, 2, 8, 64, 256, 1024)


def calibrate(device="cpu", budget_s=0.25) -> dict[int, float]:
    """Seconds per SGD step at each calibration batch size."""
    params = model.init_params(0, device=device)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1024, 784, generator=g).to(device)
    y = torch.randint(0, 10, (1024,), generator=g).to(device)
    out = {}
    for bs in CALIBRATION_BS:
        engine.sgd_step(params, x[:bs], y[:bs], 1e-6)  # warm-up
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < budget_s or n < 3:
            engine.sgd_step(params, x[:bs], y[:bs], 1e-6)
            n += 1
        out[bs] = (time.perf_counter() - t0) / n
    return out


def step_seconds(calib: dict[int, float], bs: int) -> float:
    """Interpolate time per sample in log(batch size) between calibrated points."""
    pts = sorted(calib)
    per = {b: calib[b] / b for b in pts}
    if bs <= pts[0]:
        return per[pts[0]] * bs
    if bs >= pts[-1]:
        return per[pts[-1]] * bs
    hi = next(b for b in pts if b >= bs)
    lo = pts[pts.index(hi) - 1]
    w = (math.log(bs) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (per[lo] * (1 - w) + per[hi] * w) * bs


def seconds(spec, calib) -> float:
    """Estimated compute time of one spec (harness/spec.py: each spec type
    estimates its own from the calibration)."""
    return spec.estimate_seconds(calib)


def describe(total_s: float) -> str:
    h, m = divmod(int(total_s // 60), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {int(total_s % 60):02d} s"
