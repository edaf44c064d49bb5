"""The verdict report: reports/verdicts.md (what users read), verdicts.json
(the same, machine-readable) and the figures the claims drew.

Claims hand their results over as records (plain dicts) through pytest's
user_properties, which pytest-xdist ships from the workers to the controller;
the controller alone writes the report, once, at the end of the session.

The report opens with the answer: one row per finding, its verdict combined
from its primary readings (harness/findings.py). Secondary readings (other
interpretations of the post, protocol sensitivity) follow in their own
section. Readings that are the same number under two names (identical verdict,
effect and interval within one finding) are shown once, with both names, and
counted once.
"""
import json
import math
import time
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

from . import agreement, atomic
from . import findings as F

ICON = {"supported": "supported", "contradicted": "**CONTRADICTED**", "inconclusive": "*inconclusive*",
        F.NOT_JUDGED: "*not judged at this scale*"}


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


def _name(r):
    inputs = f" [{r['scaling']} inputs]" if r.get("scaling") else ""
    return f"{r['reading']}{inputs}"


def merge_same(readings):
    """Group readings of one finding that report the same number (verdict,
    effect and interval identical): [(first record, [ids], [names]), ...]."""
    groups = {}
    for r in readings:
        v = r["verdict"]
        key = (r["primary"], v["verdict"], repr(v["effect"]), repr(tuple(v["ci"])), v["rule"])
        g = groups.setdefault(key, (r, [], []))
        g[1].append(r["reading_id"])
        g[2].append(_name(r))
    return list(groups.values())


def finding_rows(records):
    """{finding id: {"finding": claim, "verdict": combined, "readings": [...], "skipped": [...]}}."""
    out = {}
    for r in records:
        if r["kind"] not in ("verdict", "skipped") or "finding" not in r:
            continue
        f = out.setdefault(r["finding"], {"claim": r["claim"], "primary_ids": tuple(r["primary_ids"]),
                                          "readings": [], "skipped": []})
        f["readings" if r["kind"] == "verdict" else "skipped"].append(r)
    for fid, f in out.items():
        finding = F.Finding(fid, f["claim"], "", f["primary_ids"])
        prim = {r["reading_id"]: r["verdict"] for r in f["readings"] if r["primary"]}
        f["combined"] = F.combine(finding, prim)
    return dict(sorted(out.items(), key=lambda kv: _finding_key(kv[0])))


def render(records, header: dict) -> str:
    rows = finding_rows(records)
    out = ["# Batch-size claims: verdict report", ""]
    out += [f"Each finding of Kevin Shen's post *Effect of batch size on training dynamics* (2018) is re-run "
            f"here and judged by a rule fixed in advance. Scale **{header['scale']}** "
            f"({header['scale_note']}), seeds {header['seeds']}, device {header['device_name']} "
            f"({header['device']}, {header['threads']} threads).", ""]
    if header["scale"] != "paper":
        out += [f"> **Scale caveat.** This is the *{header['scale']}* scale ({header['scale_note']}): training "
                "stops earlier than the post's (BS64 at lr 0.01 ends near 94% test accuracy, not 98%), so its "
                "absolute numbers are not the post's. Its design was chosen so that its verdicts of the primary "
                "readings agree with the paper scale's (the next table checks that for this session); readings "
                "it cannot decide are declared paper-only and reported as not judged here.", ""]

    counts = defaultdict(int)
    table = []
    for fid, f in rows.items():
        c = f["combined"]
        counts[c["verdict"]] += 1
        prim = {r["reading_id"]: r for r in f["readings"] if r["primary"]}
        decisive = "; ".join(f"{_name(prim[i])}: {prim[i]['verdict']['verdict']}, {_effect(prim[i]['verdict'])}"
                             for i in c["judged"])
        if c["not_judged"]:
            decisive += (" " if decisive else "") + f"({len(c['not_judged'])} of {len(f['primary_ids'])} primary " \
                                                    f"readings not judged at this scale)"
        ns = sorted({prim[i]["verdict"]["n"] for i in c["judged"]})
        table.append([fid, f["claim"], ICON[c["verdict"]], decisive or "-", "; ".join(ns) or "-", header["scale"]])
    out += ["## The answer: one verdict per finding", "",
            f"**{len(rows)} findings: {counts['supported']} supported, {counts['contradicted']} contradicted, "
            f"{counts['inconclusive']} inconclusive, {counts[F.NOT_JUDGED]} not judged at this scale.**", "",
            "A finding's verdict rests on its *primary readings*: the post's claim under the post's protocol "
            "(mean/std inputs; the gradient experiment's literal vector sum), declared in `claims/post.py` before "
            "any multi-seed paper-scale result was read. It is supported if every primary reading is supported, "
            f"contradicted if Holm's procedure (family-wise alpha {F.ALPHA:g}, one-sided, over the finding's "
            "judged primary readings) rejects the claim for any of them, inconclusive otherwise. The numbers are "
            "each primary reading's effect with its 90% interval; the rule of each is in the finding's section.", "",
            tabulate(table, headers=["finding", "the post's claim (paraphrased)", "verdict", "decisive numbers",
                                     "n", "scale"], tablefmt="github"), ""]

    if header["scale"] != "paper":
        out += _agreement_section(rows)
    out += _readings_section(rows, primary=True)
    out += _readings_section(rows, primary=False)

    against = [(fid, g) for fid, f in rows.items() for g in merge_same(f["readings"])
               if g[0]["primary"] and g[0]["verdict"]["verdict"] != "supported"]
    if against:
        out += ["## Where our data do not support the post (primary readings)", ""]
        for fid, (r, ids, names) in against:
            v = r["verdict"]
            out.append(f"- **{fid} ({' = '.join(names)}): {v['verdict']}.** The post: {r.get('post') or '-'}. "
                       f"We measured {r.get('ours') or '-'}; effect {_effect(v)}, n={v['n']}. {v['detail']}".rstrip())
        out.append("")

    fidelity = [r for r in records if r["kind"] == "fidelity"]
    checks = [r for r in records if r["kind"] == "verdict" and "finding" not in r]  # claims/test_fidelity.py's
    if fidelity or checks:
        out += _fidelity_section(fidelity, checks, header["scale"])

    tables = sorted((r for r in records if r["kind"] == "table"),
                    key=lambda r: (_finding_key(r.get("finding", "")), r.get("title", "")))
    if tables:  # tables a claim lays out like the post (e.g. F8's BS x lr grid)
        out += ["## Tables", ""]
        for r in tables:
            out += [f"**{r.get('finding', '')}: {r.get('title', '')}**", "", r["text"], ""]
            if r.get("note"):
                out += [r["note"], ""]

    out += ["## Findings", ""]
    for fid, f in rows.items():
        c = f["combined"]
        out += [f"### {fid}: {f['claim']}", "", f"**{ICON[c['verdict']]}** ({c['rule']}).", ""]
        figs = []
        for r, ids, names in merge_same(f["readings"]):
            v = r["verdict"]
            tag = "primary" if r["primary"] else "secondary"
            out.append(f"- *{' = '.join(names)}* ({tag}; `{'`, `'.join(ids)}`): **{v['verdict']}**, effect "
                       f"{_effect(v)}, n={v['n']}, rule: {v['rule']}." + (f" {v['detail']}." if v["detail"] else "")
                       + (f" Diverged runs: {r['diverged']}." if r.get("diverged") else ""))
            for fig in r.get("figures", []):
                if fig not in figs:
                    figs.append(fig)
        for r in f["skipped"]:
            out.append(f"- `{r['reading_id']}` ({'primary' if r['primary'] else 'secondary'}): not run here: "
                       f"{r['reason']}")
        proto = next((r.get("protocol") for r in f["readings"] if r.get("protocol")), None)
        if proto:
            out += ["", "Protocol: " + ", ".join(f"{k}={_value(v)}" for k, v in proto.items()) + "."]
        out += [""] + [f"![{fid}]({p})" for p in figs] + [""]

    skipped = [r for r in records if r["kind"] == "skipped"]
    if skipped:
        out += ["## Not run in this session", "", "These readings were skipped, so they have no verdict here:", ""]
        out += [f"- `{r['nodeid']}`: {r['reason']}" for r in sorted(skipped, key=lambda r: r["nodeid"])] + [""]

    out += ["## Provenance", "", tabulate(sorted(header["provenance"].items()), tablefmt="github",
                                           headers=["what", "value"]), "",
            f"Runs trained this session: {header['computed']}; read from the cache: {header['cached']}. "
            f"Session wall time {header['wall_s']:.0f} s. Generated {header['date']}.", ""]
    return "\n".join(out)


def _fidelity_section(rows, checks, scale):
    """The readings on the post's numbers (the summary, judged at the paper
    scale; what holds at every scale), then one row per number of the post."""
    out = ["## Fidelity: the post's numbers beside ours", "",
           "Quantitative agreement, reported apart from the direction of each finding.", ""]
    if checks:
        table = [[r["reading"], f"`{r['nodeid'].split('::')[-1]}`", ICON[r["verdict"]["verdict"]],
                  _effect(r["verdict"]), r["verdict"]["n"], r["verdict"]["rule"], r.get("post", ""),
                  r.get("ours", "")] for r in checks]
        out += [tabulate(table, headers=["reading", "id", "verdict", "effect [90% CI]", "n", "rule", "the post",
                                         "ours"], tablefmt="github"), ""]
        out += [f"- *{r['reading']}*: {r['verdict']['detail']}" for r in checks if r["verdict"]["detail"]]
        out += [""]
    if rows:
        if not any(r.get("verdict") for r in rows):
            out += [f"At the {scale} scale these rows are shown, not judged: its protocol (for the quick scale, "
                    f"8000 training images and half the post's epochs) is not the post's, so neither are its "
                    f"numbers. The summary reading is judged at the paper scale; the post's numbers that hold "
                    f"at every scale (initial state, biases that train) are judged here, above.", ""]
        table = [[r["finding"], r["quantity"], _fmt(r["post"]), f"{_fmt(r['ours'])} [{_fmt(r['ci'][0])}, "
                  f"{_fmt(r['ci'][1])}]", r["tolerance"],
                  ICON[r["verdict"]] + (" (gross)" if r.get("gross") else "") if r.get("verdict") else "not judged",
                  "yes" if r["met"] else "**no**"] for r in rows]
        out += [tabulate(table, headers=["finding", "quantity", "the post", "ours (mean [90% CI])", "tolerance",
                                         "verdict (interval vs tolerance)", "mean within tolerance"],
                         tablefmt="github"), ""]
    return out


def _agreement_section(rows):
    """Each primary reading's verdict here beside the paper scale's (harness/agreement.py)."""
    paper = agreement.paper_readings()
    primary = [(fid, rid) for fid, f in rows.items() for rid in f["primary_ids"]]
    quick = {r["reading_id"]: r for f in rows.values() for r in f["readings"]}
    skipped = {r["reading_id"]: r["reason"] for f in rows.values() for r in f["skipped"]}
    table = []
    for a in agreement.compare(primary, quick, skipped, paper):
        here = a["quick"] if "quick_effect" not in a else \
            f"{a['quick']}, {_fmt(a['quick_effect'])} [{_fmt(a['quick_ci'][0])}, {_fmt(a['quick_ci'][1])}]"
        agree = {True: "yes", False: "**no**", None: "-"}[a["agree"]]
        table.append([a["finding"], f"`{a['reading']}`", here, a["paper"] or "pending",
                      agree if a["agree"] is not None or "why" not in a else f"- ({a['why']})"])
    n_yes = sum(t[4] == "yes" for t in table)
    n_no = sum(t[4] == "**no**" for t in table)
    return ["## Does this scale predict the paper scale?", "",
            f"Each primary reading's verdict here beside the paper scale's, from the committed paper reference "
            f"(`{agreement.REFERENCE.relative_to(agreement.REFERENCE.parents[2])}`; one seed: its point estimate's "
            f"side of the rule's margin). They agree when the verdict here is decided and on the paper's side. "
            f"**{n_yes} agree, {n_no} do not**; the rest are pending (no paper value yet) or not judged here.", "",
            tabulate(table, headers=["finding", "primary reading", "here", "paper scale", "agree"],
                     tablefmt="github"), ""]


def _readings_section(rows, primary: bool):
    groups = [(fid, g) for fid, f in rows.items() for g in merge_same(f["readings"]) if g[0]["primary"] == primary]
    if not groups:
        return []
    counts = defaultdict(int)
    for _, (r, _, _) in groups:
        counts[r["verdict"]["verdict"]] += 1
    title = "Primary readings" if primary else "Secondary readings: other interpretations and protocol sensitivity"
    note = ("The readings each finding's verdict rests on." if primary else
            "Readings that do not decide a finding: the post's other possible protocols (x/255 inputs, the "
            "gradient experiment's other readings of \"summed gradient\") and related checks. Readings that report "
            "the same number under two names are one row.")
    table = [[fid, " = ".join(names), ICON[r["verdict"]["verdict"]], _effect(r["verdict"]), r["verdict"]["n"],
              r.get("post", ""), r.get("ours", "")] for fid, (r, ids, names) in groups]
    return [f"## {title}", "", note, "",
            f"{len(groups)} readings: {counts['supported']} supported, {counts['contradicted']} contradicted, "
            f"{counts['inconclusive']} inconclusive.", "",
            tabulate(table, headers=["finding", "reading", "verdict", "effect [90% CI]", "n", "the post", "ours"],
                     tablefmt="github"), ""]


def write(report_dir, records, header):
    report_dir = Path(report_dir)
    rows = finding_rows(records)
    findings = {fid: dict(f["combined"], claim=f["claim"]) for fid, f in rows.items()}
    atomic.write_text(report_dir / "verdicts.md", render(records, header))
    atomic.write_text(report_dir / "verdicts.json", json.dumps({"header": header, "findings": findings,
                                                            "records": records}, indent=1, default=str))
    return report_dir / "verdicts.md"


def now():
    return time.strftime("%Y-%m-%d %H:%M:%S %Z")
