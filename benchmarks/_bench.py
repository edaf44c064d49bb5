"""Shared state of the benchmarks: seconds per unit, by (group, implementation)."""
import os
import platform

import torch

RESULTS = {}  # (group, impl) -> seconds per unit
UNITS = {}    # group -> unit name


def record(benchmark, group, impl, units_per_call, unit="step"):
    """Seconds per unit from pytest-benchmark's median time per call."""
    RESULTS[(group, impl)] = benchmark.stats.stats.median / units_per_call
    UNITS[group] = unit


def _group_order(g):
    return (g.split()[0], int(g.split("BS")[-1]) if "BS" in g else 0)


def _rate(r):
    """Three significant digits: 2,597 step/s, 0.571 trial/s."""
    return f"{r:,.0f}" if r >= 100 else f"{r:.3g}"


def table():
    groups = sorted({g for g, _ in RESULTS}, key=_group_order)
    lines = [f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"torch {torch.__version__}, {torch.get_num_threads()} threads", "",
             "| benchmark | ours | baseline | ratio (ours / baseline, higher is better) |", "|---|---|---|---|"]
    for g in groups:
        impls = {i: t for (gg, i), t in RESULTS.items() if gg == g}
        ours = impls.pop("ours", None)
        for name, t in impls.items():
            if ours is None:
                continue
            unit = UNITS[g]
            lines.append(f"| {g} vs {name} | {_rate(1 / ours)} {unit}/s | {_rate(1 / t)} {unit}/s | {t / ours:.2f}x |")
    return "\n".join(lines)
