"""Options, fixtures and the end-of-session report for batch-size-claims.

Workers (pytest-xdist) train and judge; the controller collects every claim's
records through user_properties and writes reports/ once, at the end.
"""
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


def _is_worker(config):
    return hasattr(config, "workerinput")


def _options(config):
    """Validate every option once; a problem becomes a usage error naming the fix."""
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
            raise HarnessError(f"--seeds must be at least 1, got {n}")
        device = _device(o.device)
        if o.data_root is not None:
            root = Path(o.data_root)
            if not root.is_dir():
                raise HarnessError(f"data root {root} does not exist or is not a folder: pass --data-root "
                                   f"<folder holding MNIST/raw/> or set BSC_DATA_ROOT")
            if not os.access(root, os.R_OK | os.X_OK):
                raise HarnessError(f"data root {root} is not readable: fix its permissions or pass another")
        cache = Path(o.cache_dir)
        report = Path(o.report_dir)
        for what, p, flag in (("cache", cache, "--cache-dir"), ("report", report, "--report-dir")):
            try:
                p.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise HarnessError(f"{what} dir {p} cannot be created ({e.strerror}): pass {flag} <writable dir>")
            if not os.access(p, os.W_OK | os.X_OK):
                raise HarnessError(f"{what} dir {p} is not writable: pass {flag} <writable dir>")
        if not _is_worker(config) and (o.data_root or o.download):
            data.resolve_root("mnist", o.data_root, cache, o.download)  # unpack once, before workers start
    except HarnessError as e:
        raise pytest.UsageError(str(e)) from None
    return scale, list(range(n)), device, cache, report


def _device(choice):
    import torch

    from harness.errors import HarnessError
    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cpu":
        return "cpu"
    if choice.startswith("cuda"):
        if not torch.cuda.is_available():
            raise HarnessError(f"--device {choice} but torch sees no CUDA device: pass --device cpu (or auto)")
        return choice
    raise HarnessError(f"unknown device {choice!r}: choose auto, cpu or cuda")


def pytest_configure(config):
    config.bsc = _options(config)
    if not _is_worker(config):
        # Shared with xdist workers (they inherit the environment when spawned).
        os.environ["BSC_SESSION"] = uuid.uuid4().hex[:12]
        os.environ["BSC_SESSION_START"] = repr(time.time())
        config.bsc_records = []
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:  # cores / workers intra-op threads each: workers never oversubscribe the CPU
        import torch
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_collection_finish(session):
    """Gather the specs every collected claim module declares (`required(scale, seeds)`)."""
    specs, seen = [], set()
    scale, seeds = session.config.bsc[0], session.config.bsc[1]
    for item in session.items:
        mod = getattr(item, "module", None)
        if mod is None or mod in seen or not hasattr(mod, "required"):
            continue
        seen.add(mod)
        specs += list(mod.required(scale, seeds))
    session.config.bsc_prefetch = specs


@pytest.fixture(scope="session")
def ctx(request):
    """The session context; on first use it trains (or reads) every run the
    collected claims need, splitting the work with the other workers."""
    from harness.context import Context

    scale, seeds, device, cache, report = request.config.bsc
    o = request.config.option
    events = cache / "events"
    events.mkdir(parents=True, exist_ok=True)
    c = Context(scale, seeds, device, o.data_root, cache, report,
                refresh_since=float(os.environ["BSC_SESSION_START"]) if o.refresh else None,
                events_path=events / f"{os.environ.get('BSC_SESSION', 'nosession')}.jsonl",
                download=o.download)
    c.prefetch(getattr(request.config, "bsc_prefetch", []))
    return c


@pytest.fixture
def record(request, ctx):
    """record(**fields): hand a verdict or fidelity record to the report."""
    def _record(kind="verdict", **fields):
        v = fields.get("verdict")
        if v is not None and hasattr(v, "as_dict"):
            fields["verdict"] = v.as_dict()
        fields |= {"kind": kind, "scale": ctx.scale.name, "nodeid": request.node.nodeid}
        request.node.user_properties.append(("bsc", json.loads(json.dumps(fields, default=float))))
    return _record


def pytest_runtest_logreport(report):
    """Controller side: keep every record, with the test's outcome."""
    cfg = _CONFIG.get("config")
    if cfg is None or _is_worker(cfg) or report.when != "call":
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


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if _is_worker(config) or not getattr(config, "bsc_records", None):
        return
    from harness import provenance, report

    scale, seeds, device, cache, report_dir = config.bsc
    ev = _events(config)
    computed = {e["key"] for e in ev if e["event"] == "computed"}
    cached = {e["key"] for e in ev if e["event"] == "cached"} - computed
    header = {
        "scale": scale.name, "scale_note": scale_note(scale), "seeds": len(seeds), "device": device,
        "device_name": provenance.device_name(device),
        "threads": int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0")) or None,
        "provenance": provenance.collect(device), "computed": len(computed), "cached": len(cached),
        "trained": sorted(e["desc"] for e in ev if e["event"] == "computed"),
        "wall_s": time.time() - config.bsc_t0, "date": report.now(),
    }
    header["threads"] = header["provenance"]["threads"] if header["threads"] is None else \
        f"{max(1, (os.cpu_count() or 1) // header['threads'])} per worker x {header['threads']} workers"
    config.bsc_report = report.write(report_dir, config.bsc_records, header)
    config.bsc_summary = (len(computed), len(cached))


def scale_note(scale):
    if scale.name == "paper":
        return "the post's protocol: full 60k/10k MNIST, its epochs, 1000 gradient trials"
    return (f"{scale.train_subset} training images, {scale.epoch_fraction:g}x the post's epochs, "
            f"{scale.grad_trials} gradient trials")


def pytest_terminal_summary(terminalreporter, config):
    path = getattr(config, "bsc_report", None)
    if path:
        c, k = config.bsc_summary
        terminalreporter.write_sep("-", f"batch-size-claims: {c} runs trained, {k} read from cache")
        terminalreporter.write_line(f"verdict report: {path}")
