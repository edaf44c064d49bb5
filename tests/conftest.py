"""Shared helpers for the harness tests, and the guard that keeps them off the
user's run cache.

The guard. Every run-cache entry is read and written through a
harness.cache.RunCache (the session Context makes one; so does any test that
builds a Context or a RunCache itself). For the whole test session,
RunCache.__init__ is wrapped: a cache rooted anywhere but under this session's
pytest temporary directory (tmp_path, tmp_path_factory) raises
UserCacheInTests at construction, before anything is read, so the test that
asked for it fails and names the path. That covers the plugin's session `ctx`
(rooted at --cache-dir / BSC_CACHE_DIR / .cache), a Context built in a test
with a non-tmp root and a stray RunCache(".cache") alike, whatever fixture or
helper builds them, instead of trusting a scan of the source for the patterns
we thought of. Test sessions started in a subprocess (tests/targets, run by
test_faults.py and test_options.py) load this conftest too; they inherit the
parent's temporary directory through BSC_TESTS_TMP, so their caches (which the
parent put under its tmp_path) pass.

Training tests therefore build their own Context on a fresh tmp cache
(`fresh_ctx`), so that they always exercise the trainer and engine instead of
reading what an earlier session left in the cache.
"""
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TMP_ENV = "BSC_TESTS_TMP"


class UserCacheInTests(AssertionError):
    """A test asked for a run cache outside the test session's temporary directory."""


def _allowed_roots(tmp_path_factory):
    roots = [tmp_path_factory.getbasetemp().resolve()]
    roots += [Path(p) for p in os.environ.get(TMP_ENV, "").split(os.pathsep) if p]
    return roots


def check_cache_root(root, allowed):
    r = Path(root).resolve()
    if not any(r == a or a in r.parents for a in allowed):
        raise UserCacheInTests(
            f"a test opened the run cache at {r}, outside the test session's temporary directory "
            f"({', '.join(map(str, allowed))}): tests must train on a fresh cache (fresh_ctx, tmp_path), "
            f"never read the user's (--cache-dir, BSC_CACHE_DIR, .cache)")


@pytest.fixture(scope="session", autouse=True)
def _run_caches_under_tmp_only(tmp_path_factory):
    """Session-scoped and autouse, so it is in place before any other session
    fixture (the plugin's `ctx` included) can open a cache."""
    from harness.cache import RunCache
    allowed = _allowed_roots(tmp_path_factory)
    original = RunCache.__init__

    def guarded(self, root, *args, **kwargs):
        check_cache_root(root, allowed)
        original(self, root, *args, **kwargs)
    mp = pytest.MonkeyPatch()
    mp.setattr(RunCache, "__init__", guarded)
    mp.setenv(TMP_ENV, os.pathsep.join(map(str, allowed)))  # subprocess test sessions inherit it
    yield allowed
    mp.undo()


@pytest.fixture(scope="session")
def data_root():
    """The data root the suite uses (option/env), or ../shared/data beside the repo."""
    from harness.options import absolute
    root = os.environ.get("BSC_DATA_ROOT") or (str(SHARED_DATA) if SHARED_DATA.is_dir() else None)
    if root is None:
        pytest.skip("no MNIST data root: set BSC_DATA_ROOT")
    return absolute(root)  # as the options make it: subprocesses may start in another folder


@pytest.fixture(scope="session")
def mnist_root(data_root, tmp_path_factory):
    """A root holding the unpacked idx files, unpacked once per worker into a
    temporary directory (the shared data folder may hold only .gz files)."""
    from harness import data
    from harness.errors import DataError
    try:
        return str(data.resolve_root("mnist", data_root, tmp_path_factory.mktemp("mnist")))
    except DataError as e:
        pytest.skip(f"MNIST not available: {e}")


@pytest.fixture(scope="module")
def fresh_ctx(mnist_root, tmp_path_factory):
    """A session context on a new, empty run cache: what a test trains through
    it is trained, never read from an earlier session."""
    from harness import scales
    from harness.context import Context
    tmp = tmp_path_factory.mktemp("ctx")
    return Context(scales.QUICK, [0], "cpu", mnist_root, tmp / "cache", tmp / "report",
                   verbose_progress=False, out=lambda msg: None)


# -- scheduling under `-n`: the longest modules first, one test at a time -----------------
# Module wall times (s, summed over their tests) measured on the 2-core CI machine, 2026-12-01:
# faults 118, scale_out 80, gradients 71, options 64, batched 46, context 34, datasets 30,
# mutations 26, data 23 (under load; the order is what matters). xdist's default hands each
# worker a chunk of consecutive tests, so the long subprocess tests could meet at the end on
# one worker while the other idles (CI measured 231 s where the tests' sum allows ~170 s):
# longest-first with tests handed out one at a time (--maxschedchunk 1) balances the two.
LONGEST_FIRST = ("test_faults", "test_scale_out", "test_gradients", "test_options", "test_batched",
                 "test_context", "test_datasets", "test_mutations", "test_data")


def pytest_configure(config):
    if getattr(config.option, "maxschedchunk", "absent") is None:  # xdist present, the user left it unset
        config.option.maxschedchunk = 1


def pytest_collection_modifyitems(items):
    """Stable: within a module the tests keep their order (module fixtures built once)."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda it: rank.get(Path(str(it.fspath)).stem, len(rank)))
