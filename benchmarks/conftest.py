"""Benchmarks report speed as ratios measured in the same run: our code over a
plain PyTorch baseline. Each benchmark stores its time per unit (step, trial)
through _bench.record; the summary at the end prints the ratios and writes
them to benchmarks/latest.md (gitignored; the committed notes are RESULTS.md)."""
import os
from pathlib import Path

import torch

import _bench


def pytest_configure(config):
    torch.set_num_threads(int(os.environ.get("BSC_BENCH_THREADS", os.cpu_count() or 1)))


def pytest_terminal_summary(terminalreporter):
    if not _bench.RESULTS:
        return
    text = _bench.table()
    terminalreporter.write_sep("-", "speed ratios (same run)")
    terminalreporter.write_line(text)
    Path(__file__).with_name("latest.md").write_text(text + "\n")
