"""Options, fixtures and the end-of-session report for batch-size-claims.

Workers (pytest-xdist) train and judge; the controller collects every claim's
records through user_properties and writes reports/ once, at the end.
"""
import inspect
import json
import os
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
DEFAULT_CACHE = ROOT / ".cache"
DEFAULT_REPORTS = ROOT / "reports"


def pytest_addoption(parser):
    g = parser.getgroup("batch-size-claims")
    g.addoption("--scale", default=None, help="quick | paper (default paper: the post's own protocol)")
    g.addoption("--quick", action="store_true", help="the quick CPU scale (same as --scale quick)")
    g.addoption("--seeds", type=int, default=None, help="seeds per configuration (default: 3 quick, 5 paper)")
    g.addoption("--device", default="auto", help="auto | cpu | cuda (auto: cuda when available)")
    g.addoption("--data-root", default=os.environ.get("BSC_DATA_ROOT"),
                help="folder holding MNIST/raw/ (idx files or their .gz); env BSC_DATA_ROOT")
    g.addoption("--download", action="store_true", help="let torchvision download MNIST into the cache dir")
    g.addoption("--cache-dir", default=os.environ.get("BSC_CACHE_DIR", str(DEFAULT_CACHE)),
                help="run cache shared by workers and sessions; env BSC_CACHE_DIR")
    g.addoption("--report-dir", default=os.environ.get("BSC_REPORT_DIR", str(DEFAULT_REPORTS)),
                help="where verdicts.md/json and figures go; env BSC_REPORT_DIR")
    g.addoption("--refresh", action="store_true", help="recompute cached runs instead of reading them")
    g.addoption("--max-epochs", type=int, default=None,
                help="skip (do not train) runs longer than this many epochs, e.g. 60 leaves out the "
                     "480-epoch arm of F9/F10/F12 at paper scale; the readings that need them are skipped")


def _is_worker(config):
    return hasattr(config, "workerinput")


def _options(config):
    """Validate every option once; a problem becomes a usage error naming the fix.
    Cheap checks come first, and torch is only imported when a check needs it."""
    from harness import data, scales
    from harness.errors import HarnessError

    o = config.option
    try:
        name = "quick" if o.quick else (o.scale or "paper")
        if o.quick and o.scale not in (None, "quick"):
            raise HarnessError(f"--quick contradicts --scale {o.scale}: pass one of them")
        scale = scales.get(name)
        n = o.seeds if o.seeds is not None else scale.seeds
        if n < 1:
            raise HarnessError(f"--seeds must be at least 1, got {n}: pass --seeds 1 or more "
                               f"(default {scale.seeds} at {scale.name} scale)")
        if o.max_epochs is not None and o.max_epochs < 1:
            raise HarnessError(f"--max-epochs must be at least 1, got {o.max_epochs}: pass a positive epoch "
                               f"count, or leave it out to run every arm")
        device = _device(o.device)
        if o.data_root is not None:
            if not str(o.data_root).strip():
                raise HarnessError("--data-root is empty (is BSC_DATA_ROOT set to an empty string?): pass "
                                   "--data-root <folder holding MNIST/raw/> or unset BSC_DATA_ROOT")
            root = Path(o.data_root)
            if not root.is_dir():
                raise HarnessError(f"data root {root} does not exist or is not a folder: pass --data-root "
                                   f"<folder holding MNIST/raw/> or set BSC_DATA_ROOT")
            if not os.access(root, os.R_OK | os.X_OK):
                raise HarnessError(f"data root {root} is not readable: fix its permissions or pass another "
                                   f"--data-root")
        cache = Path(o.cache_dir)
        report = Path(o.report_dir)
        for what, p, flag, env in (("cache", cache, "--cache-dir", "BSC_CACHE_DIR"),
                                   ("report", report, "--report-dir", "BSC_REPORT_DIR")):
            _writable_dir(what, p, flag, env)
        if not _is_worker(config) and (o.data_root or o.download):
            # unpack and verify (size, idx header, md5) once, before workers start
            data.resolve_root("mnist", o.data_root, cache, o.download)
    except HarnessError as e:
        raise pytest.UsageError(str(e)) from None
    return scale, list(range(n)), device, cache, report


def _writable_dir(what, p, flag, env):
    """Create p and write a probe file in it: os.access alone says yes to root."""
    import tempfile

    from harness.errors import HarnessError
    fix = f"pass {flag} <writable dir> or set {env}"
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HarnessError(f"{what} dir {p} cannot be created ({e.strerror}): {fix}") from None
    if not p.is_dir():
        raise HarnessError(f"{what} dir {p} is not a folder: {fix}")
    try:
        with tempfile.NamedTemporaryFile(dir=p, prefix=".probe."):
            pass
    except OSError as e:
        raise HarnessError(f"{what} dir {p} is not writable ({e.strerror}): {fix}") from None


def _device(choice):
    from harness.errors import HarnessError
    if choice == "cpu":
        return "cpu"
    if choice != "auto" and not (choice == "cuda" or (choice.startswith("cuda:") and choice[5:].isdigit())):
        raise HarnessError(f"unknown device {choice!r}: pass --device auto, cpu, cuda or cuda:<index>")
    import torch
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise HarnessError(f"--device {choice} but torch sees no CUDA device (torch {torch.__version__}, "
                           f"built with CUDA {torch.version.cuda}): pass --device cpu (or auto)")
    index = int(choice[5:]) if ":" in choice else 0
    if index >= torch.cuda.device_count():
        raise HarnessError(f"--device {choice} but torch sees {torch.cuda.device_count()} CUDA device(s): "
                           f"pass --device cuda:0 .. cuda:{torch.cuda.device_count() - 1} (or auto)")
    return choice


def pytest_configure(config):
    config.bsc = _options(config)
    if not _is_worker(config):
        # Shared with xdist workers (they inherit the environment when spawned).
        os.environ["BSC_SESSION"] = uuid.uuid4().hex[:12]
        os.environ["BSC_SESSION_START"] = repr(time.time())
        config.bsc_records = []
        # The commit of the code that runs, read now: edits or commits made
        # while a long session trains must not relabel its report.
        from harness import provenance
        config.bsc_commit = provenance.git_commit()
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:  # cores / workers intra-op threads each: workers never oversubscribe the CPU
        import torch
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_collection_finish(session):
    """Gather the specs every collected claim module declares (`required(scale, seeds)`)."""
    from harness.errors import HarnessError

    session.config.bsc_spec_errors = []
    specs = []
    scale, seeds = session.config.bsc[0], session.config.bsc[1]
    selected = {}  # module -> names of its selected test functions
    for item in session.items:
        mod = getattr(item, "module", None)
        if mod is not None and hasattr(mod, "required"):
            selected.setdefault(mod, set()).add(item.originalname)
    for mod, tests in selected.items():
        # A module whose required() takes `tests` declares only what the selected
        # tests need: `-k "not batch_size_2"` must not train F1's BS2 runs.
        kw = {"tests": tests} if "tests" in inspect.signature(mod.required).parameters else {}
        try:
            specs += list(mod.required(scale, seeds, **kw))
        except HarnessError as e:  # e.g. a claim that declares a run with batch size 0
            msg = (f"{mod.__name__}.required() declares an invalid run: {e}. "
                   f"Fix the run declaration in {mod.__file__}")
            if not _is_worker(session.config):
                raise pytest.UsageError(msg) from None
            # an xdist worker cannot stop the session cleanly: its tests error with this message
            session.config.bsc_spec_errors.append(type(e)(msg))
    session.config.bsc_prefetch = specs
    _announce_estimate(session.config, specs)


def _announce_estimate(config, specs):
    """Before a paper-scale CPU session, say how long the missing runs will take
    (from a ~2 s calibration), once: on the only process, or on worker gw0."""
    scale, device, cache = config.bsc[0], config.bsc[2], config.bsc[3]
    if scale.name != "paper" or not device.startswith("cpu") or not specs:
        return
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0":
        return
    import sys

    import torch

    from harness import estimate
    from harness.cache import spec_key
    kind = f"cpu-{torch.get_num_threads()}threads"
    uniq = {spec_key(s, kind): s for s in specs}
    missing = [s for k, s in uniq.items() if not (cache / "runs" / f"{k}.run").exists()]
    if not missing:
        return
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    calib = estimate.calibrate(device)
    total = sum(estimate.seconds(s, calib) for s in missing)
    print(f"\nbatch-size-claims: paper scale, {len(missing)} of {len(uniq)} runs to compute "
          f"({len(uniq) - len(missing)} cached). Estimated {estimate.describe(total / workers)} with "
          f"{workers} worker(s) on this machine (calibrated: BS64 step {calib[64] * 1e3:.1f} ms, "
          f"BS1024 step {calib[1024] * 1e3:.1f} ms). Use --quick for the {os.cpu_count()}-core CI scale.",
          file=sys.__stderr__, flush=True)


@pytest.fixture(scope="session")
def ctx(request):
    """The session context; on first use it trains (or reads) every run the
    collected claims need, splitting the work with the other workers."""
    from harness.context import Context

    scale, seeds, device, cache, report = request.config.bsc
    for err in getattr(request.config, "bsc_spec_errors", []):
        raise err
    o = request.config.option
    events = cache / "events"
    events.mkdir(parents=True, exist_ok=True)
    c = Context(scale, seeds, device, o.data_root, cache, report,
                refresh_since=float(os.environ["BSC_SESSION_START"]) if o.refresh else None,
                events_path=events / f"{os.environ.get('BSC_SESSION', 'nosession')}.jsonl",
                download=o.download, out=_progress_writer(request.config),
                progress_log=report / "progress.log", max_epochs=o.max_epochs)
    c.prefetch(getattr(request.config, "bsc_prefetch", []))
    return c


def _progress_writer(config):
    """Progress lines reach the terminal past pytest's output capture: without
    xdist through the capture manager's suspension (as live logging does);
    in an xdist worker, whose stderr is the terminal, the same way."""
    import sys
    capman = config.pluginmanager.getplugin("capturemanager")
    term = None if _is_worker(config) else config.pluginmanager.getplugin("terminalreporter")

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


@pytest.fixture
def record(request, ctx):
    """record(**fields): hand a verdict or fidelity record to the report.
    Runs the test read that diverged are named in the verdict's detail."""
    ctx.diverged_seen.clear()

    def _record(kind="verdict", **fields):
        v = fields.get("verdict")
        if v is not None and hasattr(v, "as_dict"):
            fields["verdict"] = v.as_dict()
        if ctx.diverged_seen:
            note = (f"{len(ctx.diverged_seen)} run(s) diverged (loss or weights NaN/inf; training stopped, "
                    f"final values are those at divergence): "
                    + "; ".join(f"{d} at epoch {at}" for d, at in ctx.diverged_seen))
            fields["diverged"] = [{"run": d, "epoch": at} for d, at in ctx.diverged_seen]
            if isinstance(fields.get("verdict"), dict):
                det = fields["verdict"].get("detail") or ""
                fields["verdict"] = dict(fields["verdict"], detail=f"{det}; {note}" if det else note)
        fields |= {"kind": kind, "scale": ctx.scale.name, "nodeid": request.node.nodeid}
        request.node.user_properties.append(("bsc", json.loads(json.dumps(fields, default=float))))
    return _record


def pytest_runtest_logreport(report):
    """Controller side: keep every record, with the test's outcome."""
    cfg = _CONFIG.get("config")
    if cfg is None or _is_worker(cfg):
        return
    if report.skipped and not hasattr(report, "wasxfail") and report.nodeid.startswith("claims/"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        cfg.bsc_records.append({"kind": "skipped", "nodeid": report.nodeid,
                                "reason": reason.removeprefix("Skipped: ")})
        return
    if report.when != "call":
        return
    for name, val in report.user_properties:
        if name == "bsc":
            outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
            cfg.bsc_records.append(dict(val, outcome=outcome))


_CONFIG = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    _CONFIG["config"] = session.config
    session.config.bsc_t0 = time.time()


def _events(config):
    cache = config.bsc[3]
    path = cache / "events" / f"{os.environ.get('BSC_SESSION', '')}.jsonl"
    if not path.exists():
        return []
    out = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.unlink(missing_ok=True)
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A HarnessError (bad data, an invalid run declared by a claim) is the
    user's to fix: show its message, not a traceback through the harness."""
    outcome = yield
    rep = outcome.get_result()
    exc = call.excinfo.value if call.excinfo is not None else None
    from harness.errors import HarnessError
    if isinstance(exc, HarnessError):
        rep.longrepr = f"{type(exc).__name__}: {exc}"


def pytest_report_header(config):
    scale, seeds, device, cache, report_dir = config.bsc
    from harness import provenance
    p = provenance.collect(device)
    return [f"batch-size-claims {p['package']} (commit {p['commit']}): scale {scale.name}, seeds {len(seeds)}, "
            f"device {device} ({p['device_name']}), torch {p['torch']}, torchvision {p['torchvision']}, "
            f"numpy {p['numpy']}",
            f"cache {cache}; report {report_dir} (progress also in {report_dir / 'progress.log'}); "
            f"data root {config.option.data_root or '(none: only cached runs can be read)'}"]


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if _is_worker(config) or not hasattr(config, "bsc"):
        return
    from harness import provenance, report

    scale, seeds, device, cache, report_dir = config.bsc
    ev = _events(config)
    computed = {e["key"]: e for e in ev if e["event"] == "computed"}
    cached = {e["key"]: e for e in ev if e["event"] == "cached" and e["key"] not in computed}
    corrupt = [e for e in ev if e["event"] == "corrupt"]
    diverged = sorted({(e["desc"], e["diverged_at"]) for e in list(computed.values()) + list(cached.values())
                       if e.get("diverged_at")})
    config.bsc_summary = {
        "trained": sorted(e["desc"] for e in computed.values()),
        "cached": sorted(e["desc"] for e in cached.values()),
        "corrupt": [e["error"] for e in corrupt], "diverged": diverged,
        "interrupted": exitstatus == pytest.ExitCode.INTERRUPTED,
    }
    if not getattr(config, "bsc_records", None):
        return
    workers = _xdist_workers(config)
    prov = provenance.collect(device)
    threads = (f"{max(1, (os.cpu_count() or 1) // workers)} per worker x {workers} workers" if workers > 1
               else prov["threads"])
    from dataclasses import asdict
    prov |= {"commit": getattr(config, "bsc_commit", prov["commit"]), "threads": threads, "scale": scale.name,
             "scale protocol": json.dumps(asdict(scale)),
             "seeds": f"{len(seeds)} ({', '.join(map(str, seeds))})",
             "runs trained / from cache": f"{len(computed)} / {len(cached)}",
             "diverged runs": "; ".join(f"{d} at epoch {at}" for d, at in diverged) or "none",
             "corrupt cache entries recomputed": len(corrupt),
             "session wall time": f"{time.time() - config.bsc_t0:.0f} s"}
    header = {
        "scale": scale.name, "scale_note": scale_note(scale), "seeds": len(seeds), "device": device,
        "device_name": prov["device_name"], "threads": threads,
        "provenance": prov, "computed": len(computed), "cached": len(cached),
        "trained": config.bsc_summary["trained"], "from_cache": config.bsc_summary["cached"],
        "diverged": [{"run": d, "epoch": at} for d, at in diverged],
        "corrupt": config.bsc_summary["corrupt"],
        "wall_s": time.time() - config.bsc_t0, "date": report.now(),
    }
    config.bsc_report = report.write(report_dir, config.bsc_records, header)


def _xdist_workers(config) -> int:
    """Worker count as the controller sees it (-n N, -n auto); 0 without xdist."""
    n = getattr(config.option, "numprocesses", None)
    if n in ("auto", "logical"):
        return os.cpu_count() or 1
    try:
        return int(n or 0) if getattr(config.option, "dist", "no") != "no" or n else 0
    except (TypeError, ValueError):
        return 0


def scale_note(scale):
    if scale.name == "paper":
        return "the post's protocol: full 60k/10k MNIST, its epochs, 1000 gradient trials"
    return (f"{scale.train_subset} training images, {scale.epoch_fraction:g}x the post's epochs, "
            f"{scale.grad_trials} gradient trials")


def pytest_terminal_summary(terminalreporter, config):
    summary = getattr(config, "bsc_summary", None)
    if not summary or not (summary["trained"] or summary["cached"] or summary["corrupt"]):
        path = getattr(config, "bsc_report", None)
        if path:
            terminalreporter.write_line(f"verdict report: {path}")
        return
    tr, ca = summary["trained"], summary["cached"]
    terminalreporter.write_sep("-", f"batch-size-claims: {len(tr)} runs trained, {len(ca)} read from cache")
    limit = 40  # a paper-scale session needs ~100 runs: the report's JSON lists them all
    for what, runs in (("trained", tr), ("from cache", ca)):
        for d in runs[:limit]:
            terminalreporter.write_line(f"  {what}: {d}")
        if len(runs) > limit:
            terminalreporter.write_line(f"  ... and {len(runs) - limit} more {what} (see verdicts.json)")
    for d, at in summary["diverged"]:
        terminalreporter.write_line(f"  DIVERGED: {d} at epoch {at} (loss or weights NaN/inf)", yellow=True)
    for err in summary["corrupt"]:
        terminalreporter.write_line(f"  corrupt cache entry recomputed: {err}", yellow=True)
    if summary["interrupted"]:
        terminalreporter.write_line(f"interrupted: the {len(tr)} run(s) finished this session are in the cache; "
                                    f"rerun the same command to resume", yellow=True)
    path = getattr(config, "bsc_report", None)
    if path:
        terminalreporter.write_line(f"verdict report: {path}")
