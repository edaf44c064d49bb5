"""Benchmarks report speed as ratios measured in the same run, our code over a
plain PyTorch baseline, with rounds of both interleaved (benchmarks/_bench.py).
Threads are pinned once, here, to BSC_BENCH_THREADS (default: all cores), and
the table states the count. The summary at the end prints the table, with the
machine and the load average before and after, and writes it to
benchmarks/latest.md (gitignored; the committed notes are RESULTS.md)."""
import os
from pathlib import Path

import torch

import _bench


def pytest_configure(config):
    torch.set_num_threads(_bench.threads())
    _bench.LOAD["before"] = os.getloadavg()


def pytest_terminal_summary(terminalreporter):
    if not _bench.RESULTS:
        return
    _bench.LOAD["after"] = os.getloadavg()
    text = _bench.table()
    terminalreporter.write_sep("-", "speed ratios (same run, rounds interleaved)")
    terminalreporter.write_line(text)
    Path(__file__).with_name("latest.md").write_text(text + "\n")
