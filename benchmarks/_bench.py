"""Shared timing of the benchmarks: rounds of our code and its baselines
interleaved, with a warm-up for each, and the table of ratios.

Why interleaved: on a shared machine the load drifts over seconds. Timing all
rounds of ours and then all rounds of the baseline would charge the drift to
one side. Here every round times each implementation once, in an order that
rotates from round to round, so both sides see the same load; the ratio of a
round compares two timings taken seconds apart, and the table gives the
median of the per-round ratios with their range.
"""
import os
import statistics
import time

import torch

RESULTS = {}   # group -> {"unit": str, "times": {impl: [seconds per unit, one per round]}, "rows": [...]}
LOAD = {}      # "before" / "after": os.getloadavg()


def threads() -> int:
    """The intra-op thread count the benchmarks pin (BSC_BENCH_THREADS, default: all cores)."""
    return int(os.environ.get("BSC_BENCH_THREADS", os.cpu_count() or 1))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine()


def interleaved(impls: dict, rounds: int, units: int, warmup: int = 1) -> dict:
    """{impl: [seconds per unit, one per round]}. impls: name -> callable doing
    `units` units of work. Warm-up: `warmup` untimed calls of each, interleaved
    the same way. Every impl gets the same number of rounds."""
    assert torch.get_num_threads() == threads(), "something changed the pinned thread count"
    names = list(impls)
    for _ in range(warmup):
        for name in names:
            impls[name]()
    out = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]  # rotate: no side always goes first
        for name in order:
            t0 = time.perf_counter()
            impls[name]()
            out[name].append((time.perf_counter() - t0) / units)
    return out


def record(group, unit, times, rows):
    """rows: (label, numerator impl, denominator impl): ratio = times[num] / times[den] per round,
    > 1 means the denominator (ours) is faster."""
    RESULTS[group] = {"unit": unit, "times": times, "rows": rows}


def _rate(r):
    """Three significant digits: 2,597 step/s, 0.571 trial/s."""
    return f"{r:,.0f}" if r >= 100 else f"{r:.3g}"


def table():
    lines = [f"machine: {cpu_model()}, {os.cpu_count()} logical cores; torch {torch.__version__}; "
             f"intra-op threads pinned to {threads()} (BSC_BENCH_THREADS; torch.get_num_threads() = "
             f"{torch.get_num_threads()})",
             "load average (1/5/15 min): before " + " ".join(f"{x:.2f}" for x in LOAD.get("before", ()))
             + ", after " + " ".join(f"{x:.2f}" for x in LOAD.get("after", ())),
             "", "| benchmark | rounds | ours | baseline | ratio, median (range over rounds) |", "|---|---|---|---|---|"]
    for group, g in RESULTS.items():
        t, unit = g["times"], g["unit"]
        for label, num, den in g["rows"]:
            ratios = [a / b for a, b in zip(t[num], t[den])]
            lines.append(f"| {group}: {label} | {len(ratios)} | {_rate(1 / statistics.median(t[den]))} {unit}/s | "
                         f"{_rate(1 / statistics.median(t[num]))} {unit}/s | {statistics.median(ratios):.2f}x "
                         f"({min(ratios):.2f}-{max(ratios):.2f}) |")
    return "\n".join(lines)
