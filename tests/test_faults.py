"""Faults injected into real pytest sessions of a tiny claim-shaped target
(tests/targets/tiny_claim.py): SIGINT and SIGKILL mid-suite, a corrupted cache
entry, two sessions (one with xdist workers) racing on one cache dir, and a
diverging learning rate. Nothing finished is lost, nothing trains twice,
nothing crashes."""
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import data
from harness.cache import RunCache

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BSC_DATA_ROOT") or ROOT.parent / "shared" / "data")
TARGET = "tests/targets/tiny_claim.py"
SUMMARY = re.compile(r"batch-size-claims: (\d+) runs trained, (\d+) read from cache")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    if not (SHARED / "MNIST" / "raw").is_dir():
        pytest.skip(f"no MNIST under {SHARED}: set BSC_DATA_ROOT to the offline data folder")
    # unpacked once into a tmp dir (never the user's .cache); sessions only verify it
    return data.resolve_root("mnist", SHARED, tmp_path_factory.mktemp("mnist"))


def _start(tmp, data_root, name, env=(), args=()):
    """Start `pytest TARGET` with its own report dir and the shared tmp cache."""
    env = dict(os.environ, OMP_NUM_THREADS="1", **dict(env))
    for k in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "BSC_SESSION", "BSC_SESSION_START"):
        env.pop(k, None)
    rep = tmp / f"reports-{name}"
    cmd = [sys.executable, "-m", "pytest", TARGET, "-p", "no:cacheprovider", "--device", "cpu",
           "--data-root", str(data_root), "--cache-dir", str(tmp / "cache"), "--report-dir", str(rep), *args]
    # Its own process group, like a terminal job, with SIGINT at its default: a launcher without job
    # control (a background `cmd &` in a script) leaves SIGINT ignored, which children inherit, and
    # Python then installs no KeyboardInterrupt handler; a user's Ctrl-C always arrives.
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    p.report_dir = rep
    return p


def _finish(p, timeout=240):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise
    return out + err


def _entries(tmp):
    return sorted((tmp / "cache" / "runs").glob("*.run")) if (tmp / "cache" / "runs").is_dir() else []


def _wait_entries(tmp, n, p, timeout=180):
    t0 = time.time()
    while len(_entries(tmp)) < n:
        assert p.poll() is None, "the session ended before it could be interrupted"
        assert time.time() - t0 < timeout, "no cache entry appeared"
        time.sleep(0.02)


def _all_sound(tmp):
    c = RunCache(tmp / "cache")
    for e in _entries(tmp):
        assert c.read(e.stem) is not None  # raises CorruptEntry on a partial or damaged file
    return len(_entries(tmp))


def _counts(out):
    m = SUMMARY.search(out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


N = 4
SLOW = {"BSC_TINY_N": str(N), "BSC_TINY_PAUSE": "2"}  # >= 2 s a run: time to interrupt between runs


def test_sigint_and_kill_9_mid_suite_lose_nothing_and_resume(tmp_path, data_root):
    # 1. Ctrl-C (SIGINT to the job's process group) after the first run is cached
    p = _start(tmp_path, data_root, "s1", SLOW)
    _wait_entries(tmp_path, 1, p)
    os.killpg(p.pid, signal.SIGINT)
    out = _finish(p)
    assert p.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "KeyboardInterrupt" in out and "Traceback" not in out, out
    assert "rerun the same command to resume" in out, out
    k1 = _all_sound(tmp_path)
    assert 1 <= k1 < N, f"the interrupt must land mid-suite (some runs kept, not all): {k1} of {N} cached"
    # 2. kill -9 after one more run is cached: no clean-up code runs at all
    p = _start(tmp_path, data_root, "s2", SLOW)
    _wait_entries(tmp_path, k1 + 1, p)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    k2 = _all_sound(tmp_path)
    assert k1 < k2 <= N
    # 3. corrupt one finished entry (truncate it, as a crash of a non-atomic writer would leave it),
    #    then rerun: it reads what both killed sessions finished, recomputes the damaged entry
    #    with a warning, and trains only the rest
    before = [e.name for e in _entries(tmp_path)]
    victim = _entries(tmp_path)[0]
    victim.write_bytes(victim.read_bytes()[:700])
    p = _start(tmp_path, data_root, "s3", SLOW)
    out = _finish(p)
    assert p.returncode == 0, out
    assert _counts(out) == (N - k2 + 1, k2 - 1), f"k1={k1} k2={k2} entries before={before}\n{out}"
    assert "corrupt cache entry recomputed" in out and victim.name in out, out
    assert _all_sound(tmp_path) == N


def test_an_interrupt_before_any_run_is_logged_still_says_how_to_resume():
    """Ctrl-C can land after a run's entry is written and before its "computed" line
    is logged (CI hit it once): the session then lists no run, and must still say
    that the finished runs are kept and how to resume."""
    from types import SimpleNamespace

    from harness.session import Session
    lines = []
    tr = SimpleNamespace(write_line=lambda msg, **kw: lines.append(msg),
                         write_sep=lambda sep, msg, **kw: lines.append(msg))
    empty = {"trained": [], "cached": [], "published": [], "corrupt": [], "diverged": [], "interrupted": True}
    Session.terminal_summary(SimpleNamespace(summary=empty, report_path=None), tr)
    assert lines == ["interrupted: every run this session finished is in the cache; rerun the same command to resume"]


def test_two_sessions_one_with_xdist_train_each_run_once(tmp_path, data_root):
    """Session A (`-n 2`) needs runs 0..4, session B (no xdist) needs 0..2, on
    one cache dir, started together: every run is trained exactly once, and
    A's workers show their progress on the terminal (stderr)."""
    a = _start(tmp_path, data_root, "a", {"BSC_TINY_N": "5"}, ["-n", "2"])
    b = _start(tmp_path, data_root, "b", {"BSC_TINY_N": "3"})
    out_a, out_b = _finish(a), _finish(b)
    assert a.returncode == 0, out_a
    assert b.returncode == 0, out_b
    trained = [line.split("trained: ", 1)[1].strip() for o in (out_a, out_b)
               for line in o.splitlines() if line.strip().startswith("trained: ")]
    assert sorted(trained) == sorted(f"sgd BS64 lr0.05 x1 seed{s}" for s in range(5)), (out_a, out_b)
    (ta, ca), (tb, cb) = _counts(out_a), _counts(out_b)
    assert ta + tb == 5 and ta + ca == 5 and tb + cb == 3
    # the progress log of both sessions: each run started once in all
    started = [ln for rep in (a.report_dir, b.report_dir) for ln in (rep / "progress.log").read_text().splitlines()
               if " training " in ln]
    assert len(started) == 5, started
    # runs 3 and 4 only A needs: its xdist workers trained them and said so on stderr
    assert re.search(r"\[gw\d\] training sgd BS64 lr0\.05 x1 seed[34]", out_a), out_a
    assert re.search(r"\[gw\d\] sgd BS64 lr0\.05 x1 seed\d: epoch 1/1, test acc 0\.\d+, \d+s, ~0s left", out_a)


def test_divergence_is_recorded_and_reported(tmp_path, data_root):
    p = _start(tmp_path, data_root, "div", {"BSC_TINY_N": "1", "BSC_TINY_LR": "1e4", "BSC_TINY_EPOCHS": "3"})
    out = _finish(p)
    assert p.returncode == 0 and "Traceback" not in out, out
    assert "DIVERGED at epoch 1" in out and "DIVERGED: sgd BS64 lr10000 x3 seed0 at epoch 1" in out, out
    rep = json.loads((p.report_dir / "verdicts.json").read_text())
    assert rep["header"]["diverged"] == [{"run": "sgd BS64 lr10000 x3 seed0", "epoch": 1}]
    # what the finding's readings cost, in the report and in the terminal (the CI log)
    assert [(r["finding"], r["entries"]) for r in rep["header"]["cost"]] == [("T0", 1), ("all (each entry once)", 1)]
    assert re.search(r"compute by finding, core-minutes .*: T0 \d+\.\d, all \d+\.\d", out), out
    for r in rep["records"]:
        assert r["diverged"] == [{"run": "sgd BS64 lr10000 x3 seed0", "epoch": 1}]
    md = (p.report_dir / "verdicts.md").read_text()
    assert "| diverged runs" in md and "sgd BS64 lr10000 x3 seed0 at epoch 1" in md
    assert "Diverged runs: [{'run': 'sgd BS64 lr10000 x3 seed0', 'epoch': 1}]" in md  # beside the reading
    # the cache entry: stopped at the diverged epoch, provenance complete
    entry = RunCache(tmp_path / "cache").read(_entries(tmp_path)[0].stem)
    rec = entry["record"]
    assert rec["diverged_at"] == 1 and rec["history"]["epoch"] == [0, 1]
    assert not math.isfinite(rec["history"]["test_loss"][-1]) or not math.isfinite(rec["history"]["w_dist"][-1])
    prov = rec["provenance"]
    for k in ("package", "commit", "torch", "torchvision", "numpy", "device", "device_name", "threads", "seed",
              "scale", "protocol", "wall_s"):
        assert k in prov, k
    assert prov["protocol"]["phases"][0] == {"epochs": 3, "batch_size": 64, "lr": 1e4}
    # the report header carries the session's provenance
    h = rep["header"]["provenance"]
    for k in ("package", "commit", "torch", "torchvision", "numpy", "device_name", "threads", "scale",
              "scale protocol", "seeds", "session wall time"):
        assert k in h, k
