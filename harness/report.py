"""The verdict report: reports/verdicts.md (what users read), verdicts.json
(the same, machine-readable) and the figures the claims drew.

Claims hand their results over as records (plain dicts) through pytest's
user_properties, which pytest-xdist ships from the workers to the controller;
the controller alone writes the report, once, at the end of the session.
"""
import json
import math
import time
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

from . import atomic

ICON = {"supported": "supported", "contradicted": "**CONTRADICTED**", "inconclusive": "*inconclusive*"}
FINDINGS = {  # id -> the finding, paraphrased (see ../shared/CLAIMS.md and the post)
    "F1": "A larger batch ends at a lower test (and train) accuracy",
    "F2": "A larger learning rate recovers what a large batch loses",
    "F3": "Starting with a large batch does not trap the model",
    "F4": "For the same samples seen, larger batches take larger steps (norm ~ sqrt(BS))",
    "F5": "At equal mean step, larger batches vary more in step size",
    "F6": "Large batches make both very large and very small updates",
    "F7": "Per-coordinate gradients have heavier tails at larger batches",
    "F8": "Better solutions lie far from the init; large batches do not travel far enough",
    "F9": "More lr or more epochs lets a large batch reach the far solutions",
    "F10": "For a fixed number of steps SGD travels a bounded distance, whatever the batch",
    "F11": "Adam finds much larger weights and generalises worse",
    "F12": "SGD stays near the sphere of the initial radius; Adam ignores the init",
}


def _fmt(x, digits=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}g}" if isinstance(x, (int, float)) else str(x)


def _value(v):
    """A protocol value; a long list of numbers (the 15 batch sizes) as a range."""
    if isinstance(v, (list, tuple)) and len(v) > 6 and all(isinstance(x, (int, float)) for x in v):
        return f"{v[0]}..{v[-1]} ({len(v)} values)"
    return v


def _effect(v):
    lo, hi = v["ci"]
    return f"{_fmt(v['effect'])} [{_fmt(lo)}, {_fmt(hi)}]"


def _finding_key(f):
    return int(f[1:]) if f[1:].isdigit() else 99


def render(records, header: dict) -> str:
    verdicts = sorted((r for r in records if r["kind"] == "verdict"),
                      key=lambda r: (_finding_key(r["finding"]), r["reading"]))
    fidelity = [r for r in records if r["kind"] == "fidelity"]
    counts = defaultdict(int)
    for r in verdicts:
        counts[r["verdict"]["verdict"]] += 1

    out = ["# Batch-size claims: verdict report", ""]
    out += [f"Each finding of Kevin Shen's post *Effect of batch size on training dynamics* (2018) is re-run "
            f"here and judged by a rule fixed in advance. Scale **{header['scale']}** "
            f"({header['scale_note']}), seeds {header['seeds']}, device {header['device_name']} "
            f"({header['device']}, {header['threads']} threads).", ""]
    out += [f"**{len(verdicts)} readings: {counts['supported']} supported, {counts['contradicted']} contradicted, "
            f"{counts['inconclusive']} inconclusive.** A reading is one way of testing a finding; where the post "
            f"is ambiguous each interpretation is its own reading with its own verdict.", ""]
    out += ["How to read a row: *effect* is the measured quantity the rule tests (units in the reading), with its "
            "90% confidence interval; *n* counts seeds (training runs) or trials (gradient experiment); the rule "
            "says what the interval must clear. Supported and contradicted both mean the interval decided; "
            "inconclusive means it straddles the line at this n.", ""]

    if header["scale"] != "paper":
        out += [f"> **Scale caveat.** This is the *{header['scale']}* scale: a subset of MNIST and a fifth of the "
                "post's epochs, so training stops early (BS64 at lr 0.01 ends near 89% test accuracy, not 98%). "
                "Findings about the end of training are judged on a short run here; read their verdicts as "
                "statements about early training, and the paper-scale report for the post's own protocol.", ""]

    by_finding = defaultdict(list)
    for r in verdicts:
        by_finding[r["finding"]].append(r)
    glance = []
    for f in sorted(by_finding, key=_finding_key):
        c = defaultdict(int)
        for r in by_finding[f]:
            c[r["verdict"]["verdict"]] += 1
        n = len(by_finding[f])
        status = ("supported" if c["supported"] == n else "**contradicted**" if c["contradicted"] == n
                  else "*inconclusive*" if c["inconclusive"] == n else "mixed")
        glance.append([f, FINDINGS.get(f, ""), status, c["supported"], c["contradicted"], c["inconclusive"]])
    out += ["## At a glance", "", "One row per finding; *mixed* means its readings disagree (see the summary).", "",
            tabulate(glance, headers=["finding", "the post's finding (paraphrased)", "overall", "supported",
                                      "contradicted", "inconclusive"], tablefmt="github"), ""]

    rows = [[r["finding"], r["reading"], ICON[r["verdict"]["verdict"]], _effect(r["verdict"]), r["verdict"]["n"],
             r.get("post", ""), r.get("ours", "")] for r in verdicts]
    out += ["## Summary", "", "Every reading; its rule is given in the finding's section below.", "",
            tabulate(rows, headers=["finding", "reading", "verdict", "effect [90% CI]", "n", "the post", "ours"],
                     tablefmt="github"), ""]

    against = [r for r in verdicts if r["verdict"]["verdict"] != "supported"]
    if against:
        out += ["## Where our data do not support the post", ""]
        for r in against:
            v = r["verdict"]
            out.append(f"- **{r['finding']} ({r['reading']}): {v['verdict']}.** The post: {r.get('post', '-')}. "
                       f"We measured {r.get('ours', '-')}; effect {_effect(v)}, n={v['n']}. {v['detail']}".rstrip())
        out.append("")

    if fidelity:
        rows = [[r["finding"], r["quantity"], _fmt(r["post"]), f"{_fmt(r['ours'])} [{_fmt(r['ci'][0])}, "
                 f"{_fmt(r['ci'][1])}]", r["tolerance"], "yes" if r["met"] else "**no**"] for r in fidelity]
        out += ["## Fidelity: the post's numbers beside ours", "",
                "Quantitative agreement, reported apart from the direction of each finding.", "",
                tabulate(rows, headers=["finding", "quantity", "the post", "ours (mean [90% CI])", "tolerance",
                                        "met"], tablefmt="github"), ""]

    tables = sorted((r for r in records if r["kind"] == "table"),
                    key=lambda r: (_finding_key(r.get("finding", "")), r.get("title", "")))
    if tables:  # free-form tables a claim lays out like the post (e.g. F8's BS x lr grid)
        out += ["## Tables", ""]
        for r in tables:
            out += [f"**{r.get('finding', '')}: {r.get('title', '')}**", "", r["text"], ""]
            if r.get("note"):
                out += [r["note"], ""]

    out += ["## Findings", ""]
    for f in sorted(by_finding, key=_finding_key):
        out += [f"### {f}: {FINDINGS.get(f, '')}", ""]
        figs = []
        for r in by_finding[f]:
            v = r["verdict"]
            out.append(f"- *{r['reading']}*: **{v['verdict']}**, effect {_effect(v)}, n={v['n']}, rule: {v['rule']}."
                       + (f" {v['detail']}." if v["detail"] else ""))
            for fig in r.get("figures", []):
                if fig not in figs:
                    figs.append(fig)
        proto = by_finding[f][0].get("protocol")
        if proto:
            out += ["", "Protocol: " + ", ".join(f"{k}={_value(v)}" for k, v in proto.items()) + "."]
        out += [""] + [f"![{f}]({p})" for p in figs] + [""]

    skipped = [r for r in records if r["kind"] == "skipped"]
    if skipped:
        out += ["## Not run in this session", "", "These readings were skipped, so they have no verdict here:", ""]
        out += [f"- `{r['nodeid']}`: {r['reason']}" for r in sorted(skipped, key=lambda r: r["nodeid"])] + [""]

    out += ["## Provenance", "", tabulate(sorted(header["provenance"].items()), tablefmt="github",
                                           headers=["what", "value"]), "",
            f"Runs trained this session: {header['computed']}; read from the cache: {header['cached']}. "
            f"Session wall time {header['wall_s']:.0f} s. Generated {header['date']}.", ""]
    return "\n".join(out)


def write(report_dir, records, header):
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_text(report_dir / "verdicts.md", render(records, header))
    atomic.write_text(report_dir / "verdicts.json", json.dumps({"header": header, "records": records}, indent=1,
                                                               default=str))
    return report_dir / "verdicts.md"


def now():
    return time.strftime("%Y-%m-%d %H:%M:%S %Z")
