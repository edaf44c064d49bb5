"""The run cache: hit, miss, the entry format (schema + sha256), atomic writes,
corrupt entries recomputed with a warning, and real processes racing for the
same runs (each run computed once)."""
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from harness import cache as cache_mod
from harness.cache import CorruptEntry, RunCache

ROOT = Path(__file__).resolve().parents[1]


def _entry(value):
    return {"record": {"value": value, "diverged_at": None}, "tensors": {"w": [torch.arange(4.0) * value]}}


class Counter:
    def __init__(self, value=1):
        self.calls, self.value = 0, value

    def __call__(self):
        self.calls += 1
        return _entry(self.value)


def test_miss_then_hit(tmp_path):
    events = []
    c = RunCache(tmp_path, events=lambda **kw: events.append(kw))
    compute = Counter(3)
    assert c.read("k") is None
    first = c.get("k", compute, "run k")
    again = c.get("k", compute, "run k")
    assert compute.calls == 1
    assert first["record"] == again["record"] == {"value": 3, "diverged_at": None}
    assert torch.equal(again["tensors"]["w"][0], torch.arange(4.0) * 3)
    assert [e["event"] for e in events] == ["computed", "cached"]
    # another RunCache on the same dir (another session) reads it too
    assert RunCache(tmp_path).get("k", Counter(99))["record"]["value"] == 3


def test_events_log_what_the_info_callback_returns(tmp_path):
    events = []
    c = RunCache(tmp_path, events=lambda **kw: events.append(kw))
    info = lambda entry: {"value_seen": entry["record"]["value"]}  # noqa: E731
    c.get("k", Counter(3), "run k", info=info)
    c.ensure([("k", Counter(4), "run k", info), ("j", Counter(5), "run j", info)])
    c.get("k", Counter(6), "run k")  # no callback: nothing about the entry is logged
    assert [(e["event"], e.get("value_seen")) for e in events] == [("computed", 3), ("computed", 5), ("cached", None)]
    assert "diverged_at" not in events[-1]


def test_entry_format_schema_and_checksum(tmp_path):
    c = RunCache(tmp_path)
    c.write("k", _entry(1))
    blob = c.path("k").read_bytes()
    head, _, payload = blob.partition(b"\n")
    assert head == b"BSC%d " % cache_mod.SCHEMA + hashlib.sha256(payload).hexdigest().encode()
    assert c.path("k").stat().st_mode & 0o777 == 0o644  # readable by others sharing the cache
    assert not list(c.dir.glob(".*.tmp"))  # the temp file was renamed, not left behind


def _damage(path: Path, how: str):
    blob = path.read_bytes()
    if how == "truncated":  # what a crash mid-write would leave, were writes not atomic
        path.write_bytes(blob[: len(blob) // 2])
    elif how == "flipped-byte":
        i = len(blob) - 10
        path.write_bytes(blob[:i] + bytes([blob[i] ^ 0xFF]) + blob[i + 1:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(os.urandom(300))
    elif how == "old-schema":  # a valid entry from an older layout
        head, _, payload = blob.partition(b"\n")
        path.write_bytes(b"BSC0 " + head.split(b" ")[1] + b"\n" + payload)
    elif how == "bad-payload":  # checksum right, but not a torch payload
        payload = b"not a torch file"
        path.write_bytes(b"BSC%d " % cache_mod.SCHEMA + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)


@pytest.mark.parametrize("how", ["truncated", "flipped-byte", "empty", "garbage", "old-schema", "bad-payload"])
def test_corrupt_entry_is_recomputed_with_a_warning(tmp_path, how):
    events = []
    c = RunCache(tmp_path, events=lambda **kw: events.append(kw))
    c.get("k", Counter(1))
    _damage(c.path("k"), how)
    with pytest.raises(CorruptEntry):
        c.read("k")
    compute = Counter(2)
    with pytest.warns(RuntimeWarning, match="corrupt cache entry recomputed"):
        got = c.get("k", compute, "run k")
    assert compute.calls == 1 and got["record"]["value"] == 2
    assert c.read("k")["record"]["value"] == 2  # the rewritten entry is sound
    assert [e["event"] for e in events] == ["computed", "corrupt", "computed"]
    if how == "old-schema":
        assert "schema 0" in events[1]["error"]


def test_failed_compute_leaves_no_entry_and_no_lock(tmp_path):
    c = RunCache(tmp_path)

    def boom():
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C during training

    with pytest.raises(KeyboardInterrupt):
        c.get("k", boom)
    assert c.read("k") is None and not list(c.dir.glob(".*"))
    assert c.get("k", Counter(5))["record"]["value"] == 5  # the lock was released


def test_stale_temp_files_are_swept(tmp_path):
    c = RunCache(tmp_path)
    old, fresh = c.dir / ".k.old.tmp", c.dir / ".k.fresh.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    t = time.time() - cache_mod.STALE_TMP_S - 60
    os.utime(old, (t, t))
    RunCache(tmp_path)
    assert not old.exists() and fresh.exists()  # a fresh one may belong to a live writer


RACER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import torch
    from harness.cache import RunCache
    root, me = Path(sys.argv[1]), sys.argv[2]
    (root / f"ready.{me}").touch()
    while not (root / "go").exists():  # start together
        time.sleep(0.01)

    def compute(key):
        def f():
            with open(root / "counter", "a") as fh:
                fh.write(f"{key} {me}\\n")
            time.sleep(0.6)  # long enough that the other process asks meanwhile
            return {"record": {"key": key, "by": me}, "tensors": {}}
        return f

    c = RunCache(root / "cache")
    got = c.get("one", compute("one"), "one")  # both need the same run
    c.ensure([(k, compute(k), k) for k in ("a", "b", "c", "d")])  # both need the same list
    print("GOT", got["record"]["by"], *(c.read(k)["record"]["by"] for k in "abcd"))
""")


def _wait_for(pred, timeout, what):
    t0 = time.time()
    while not pred():
        if time.time() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_two_processes_racing_compute_each_run_once(tmp_path):
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, str(script), str(tmp_path), me], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for me in ("p1", "p2")]
    try:
        _wait_for(lambda: all((tmp_path / f"ready.{me}").exists() for me in ("p1", "p2")), 120, "both racers")
        (tmp_path / "go").touch()
        outs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    lines = (tmp_path / "counter").read_text().split()
    keys = lines[0::2]
    assert sorted(keys) == ["a", "b", "c", "d", "one"], f"a run was computed twice: {lines}"
    # both processes saw the same entries (the one computed by whichever won)
    got = [o.split("GOT", 1)[1].split() for o, _ in outs]
    assert got[0] == got[1]


WRITER = textwrap.dedent("""
    import sys, torch
    from harness.cache import RunCache
    c = RunCache(sys.argv[1])
    i = 0
    while True:  # rewrite one big entry forever, until killed
        i += 1
        c.write("k", {"record": {"i": i}, "tensors": {"w": [torch.full((1 << 20,), float(i))]}})
        print(i, flush=True)
""")


def test_kill_9_during_writes_never_leaves_a_readable_partial_entry(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c = RunCache(tmp_path)
    try:
        p.stdout.readline()  # the first entry is written
        reads, t0 = 0, time.time()
        while time.time() - t0 < 1.5:  # read while the writer replaces the entry
            e = c.read("k")
            w = e["tensors"]["w"][0]
            assert w[0] == w[-1] == e["record"]["i"]  # whole and consistent
            reads += 1
    finally:
        os.kill(p.pid, signal.SIGKILL)  # most likely mid-write: it spends its time writing
        p.wait()
    e = c.read("k")  # never CorruptEntry: the final name only ever holds a whole entry
    assert e is not None and e["tensors"]["w"][0][0] == e["record"]["i"]
    assert reads > 0


# -- tests never touch the user's run cache (tests/conftest.py's guard) ---------------------
GUARD = "outside the test session's temporary directory"


def test_a_run_cache_outside_the_tests_tmp_dir_fails_the_test(tmp_path):
    """Any RunCache, or Context (which opens one), rooted outside pytest's
    temporary directory raises before it reads anything: the default .cache,
    BSC_CACHE_DIR, and a tmp-looking path that is not this session's."""
    from harness import options, scales
    from harness.context import Context
    user = Path(os.environ.get("BSC_CACHE_DIR") or options.DEFAULT_CACHE)
    for root in (options.DEFAULT_CACHE, user, Path("/tmp/some-other-cache")):
        with pytest.raises(AssertionError, match=GUARD):
            RunCache(root)
        with pytest.raises(AssertionError, match=GUARD):
            Context(scales.QUICK, [0], "cpu", None, root, tmp_path / "report")
    assert RunCache(tmp_path / "fresh").get("k", Counter(5))["record"]["value"] == 5  # under tmp: fine


def test_the_sessions_ctx_fixture_is_refused(request):
    """The plugin's `ctx` (rooted at --cache-dir / BSC_CACHE_DIR / .cache, which
    holds earlier sessions' runs) fails any test that asks for it."""
    from harness.plugin import session_of
    cache = session_of(request.config).options.cache
    if any(a == cache.resolve() or a in cache.resolve().parents for a in request.getfixturevalue(
            "_run_caches_under_tmp_only")):
        pytest.skip(f"this session's --cache-dir {cache} is itself a temporary test directory")
    with pytest.raises(AssertionError, match=GUARD):
        request.getfixturevalue("ctx")
