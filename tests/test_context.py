"""--max-epochs: the session context skips, never trains, a run it excludes,
and lets a figure tell which runs it may draw."""
import pytest

from harness import protocol, scales
from harness.context import Context, RunSkipped


def ctx_with(tmp_path, max_epochs):
    return Context(scales.QUICK, [0], "cpu", None, tmp_path / "cache", tmp_path / "report",
                   verbose_progress=False, max_epochs=max_epochs)


def test_excluded_run_is_skipped_not_trained(tmp_path):
    ctx = ctx_with(tmp_path, max_epochs=60)
    long = protocol.sgd(scales.QUICK, 1024, 0.01, 0, epochs=480)
    assert long.epochs > 60 and ctx.too_long(long)
    assert not ctx.available([long])
    with pytest.raises(RunSkipped, match="--max-epochs 60 excludes"):
        ctx.results([long])
    runs = tmp_path / "cache" / "runs"
    assert not (runs.exists() and any(runs.iterdir()))  # nothing was trained or written


def test_short_runs_stay_available(tmp_path):
    ctx = ctx_with(tmp_path, max_epochs=60)
    short = protocol.sgd(scales.QUICK, 64, 0.01, 0)
    assert short.epochs <= 60 and ctx.available([short])
    assert ctx_with(tmp_path, max_epochs=None).available([protocol.sgd(scales.QUICK, 1024, 0.01, 0, epochs=480)])
