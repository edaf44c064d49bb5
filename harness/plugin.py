"""The suite's pytest plugin: options, fixtures and hooks. The root conftest.py
loads it (`pytest_plugins = ["harness.plugin"]`); it has no entry point, so it
never loads into other projects' pytest runs.

Every hook is a line or two that calls the Session stored on pytest's config
(harness/session.py). A claim test meets three fixtures:

    runs      the records of the runs its module declared for it (claims.uses)
    reading   hands a reading's verdict over, with one call, and decides the
              test's outcome from it (harness/expect.py)
    ctx       the session context (scale, seeds, report dir, the run cache)

and `record` hands over what is not a verdict: fidelity rows and tables.
"""
import json

import pytest

from . import claim, options
from .claim import ITEM_KEY
from .errors import HarnessError
from .session import Session, is_worker

KEY = "bsc"            # user_properties key of a record
RUNS_KEY = "bsc_runs"  # user_properties key of the cache keys a test declared and read (what it cost)


def session_of(config) -> Session:
    return config.stash[_SESSION]


_SESSION = pytest.StashKey[Session]()


def pytest_addoption(parser):
    options.add(parser)


def pytest_configure(config):
    config.addinivalue_line("markers", "bsc_runs(declare): the function that declares a claim test's runs")
    try:
        s = config.stash[_SESSION] = Session(config)
    except HarnessError as e:
        raise pytest.UsageError(str(e)) from None
    if not s.worker:
        config.pluginmanager.register(Gather(s), "bsc-gather")


def pytest_report_header(config):
    return session_of(config).header_lines()


@pytest.hookimpl(trylast=True)  # after -k / -m deselection: deselected readings train nothing
def pytest_collection_modifyitems(session, config, items):
    """Gather the runs every selected reading declares; a reading that does not
    run at this scale (or under --max-epochs) is skipped now, with the reason."""
    s = session_of(config)
    items[:] = _selected_scalings(items, config, s.options.scalings)
    for item in items:
        try:
            specs = claim.collect(item, s.options)
        except HarnessError as e:  # e.g. a claim that declares a run with batch size 0
            msg = f"{item.module.__name__} declares an invalid run: {e}. Fix the run declaration in {item.module.__file__}"
            if not s.worker:
                raise pytest.UsageError(msg) from None
            item.stash[_BAD] = msg  # an xdist worker cannot stop the session: the test errors with it (_bsc_test)
            continue
        item.stash[_DECLARED] = specs
        s.specs += specs


_BAD = pytest.StashKey[str]()
_DECLARED = pytest.StashKey[list]()  # the specs a test item declared (@uses)


def _selected_scalings(items, config, scalings):
    """Readings parametrized by an input scaling run only under --scaling's
    choice; "both" (a comparison of the two) only with --scaling both."""
    def wanted(item):
        sc = getattr(item, "callspec", None) and item.callspec.params.get("scaling")
        return sc is None or sc in scalings or (sc == "both" and len(scalings) > 1)
    keep = [i for i in items if wanted(i)]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if not wanted(i)])
    return keep


def pytest_collection_finish(session):
    session_of(session.config).announce_estimate()


@pytest.fixture(scope="session")
def ctx(request):
    """The session context; on first use it trains (or reads) every run the
    collected claims need, splitting the work with the other workers."""
    s = session_of(request.config)
    c = s.context(_progress_writer(request.config))
    c.plan(s.specs)
    c.prefetch(s.specs)
    return c


@pytest.fixture
def _bsc_test(request, ctx):
    """Once per test, before `runs` and `reading`: forget what the last test read
    (and stop a test whose run declaration was invalid, with the message)."""
    if _BAD in request.node.stash:
        raise HarnessError(request.node.stash[_BAD])
    ctx.diverged_seen.clear()
    ctx.used.clear()
    yield ctx
    # what the reading cost: the controller sums it by finding (Session.finish)
    # (declared and read: a session fixture, like the gradient experiment's, is read once per worker)
    finding = getattr(getattr(request.module, "FINDING", None), "id", None)
    keys = ctx.cost_keys([*request.node.stash.get(_DECLARED, []), *ctx.used])
    request.node.user_properties.append((RUNS_KEY, {"finding": finding or request.module.__name__.split(".")[-1],
                                                    "keys": keys}))


@pytest.fixture
def runs(request, _bsc_test):
    """The records of the runs the test's module declared for it, in the shape
    the declaring function returned (dict, list, nested). A run the session
    may not train (--no-train, --max-epochs) skips the reading, with why."""
    from .context import RunSkipped
    try:
        return claim.records(request.node, _bsc_test)
    except RunSkipped as e:  # raised in setup, where pytest_pyfunc_call cannot see it
        pytest.skip(str(e))


@pytest.fixture
def reading(request, _bsc_test):
    """reading(verdict, text, ours=..., post=..., ...): hand over this test's
    reading and decide its outcome (see claim.Reading)."""
    return claim.Reading(request, _bsc_test, _hand_over(request))


@pytest.fixture
def record(request, ctx):
    """record(kind, **fields): hand a fidelity row or a table to the report."""
    hand = _hand_over(request)
    return lambda kind, **fields: hand(dict(fields, kind=kind, scale=ctx.scale.name))


def _hand_over(request):
    def hand(fields):
        fields = dict(fields, nodeid=request.node.nodeid)
        request.node.user_properties.append((KEY, json.loads(json.dumps(fields, default=float))))
    return hand


def _progress_writer(config):
    """Progress lines reach the terminal past pytest's output capture: without
    xdist through the capture manager's suspension (as live logging does);
    in an xdist worker, whose stderr is the terminal, the same way."""
    import sys
    capman = config.pluginmanager.getplugin("capturemanager")
    term = None if is_worker(config) else config.pluginmanager.getplugin("terminalreporter")

    def out(msg):
        if capman is None:
            print(msg, file=sys.__stderr__, flush=True)
            return
        with capman.global_and_fixture_disabled():
            if term is not None:
                term.ensure_newline()
                term.write_line(msg)
            else:
                sys.stderr.write(msg + "\n")
                sys.stderr.flush()
    return out


class Gather:
    """Controller side (or the only process): keeps every record, with the test's outcome."""

    def __init__(self, session: Session):
        self.session = session

    def pytest_runtest_logreport(self, report):
        records = self.session.records
        if report.when == "teardown":
            read = dict(report.user_properties).get(RUNS_KEY)
            if read is not None:
                self.session.read_by.setdefault(read["finding"], set()).update(read["keys"])
            return
        if report.skipped and not hasattr(report, "wasxfail"):
            ident = dict(report.user_properties).get(ITEM_KEY)
            if ident is not None:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
                records.append(dict(ident, kind="skipped", nodeid=report.nodeid,
                                    reason=reason.removeprefix("Skipped: ")))
            return
        if report.when != "call":
            return
        for name, val in report.user_properties:
            if name == KEY:
                outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
                records.append(dict(val, outcome=outcome))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A HarnessError (bad data, an invalid run declared by a claim) is the
    user's to fix: show its message, not a traceback through the harness."""
    outcome = yield
    rep = outcome.get_result()
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, HarnessError):
        rep.longrepr = f"{type(exc).__name__}: {exc}"


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """A run excluded by the session's options (--max-epochs) that collection
    could not foresee skips the reading, with the reason, instead of failing it."""
    from .context import RunSkipped
    try:
        return (yield)
    except RunSkipped as e:
        pytest.skip(str(e))


def pytest_sessionfinish(session, exitstatus):
    if not is_worker(session.config) and _SESSION in session.config.stash:
        session_of(session.config).finish(exitstatus == pytest.ExitCode.INTERRUPTED)


def pytest_unconfigure(config):
    if _SESSION in config.stash:
        session_of(config).executor.close()  # a local Ray instance this session started


def pytest_terminal_summary(terminalreporter, config):
    if _SESSION in config.stash:
        session_of(config).terminal_summary(terminalreporter)
