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
    """The post's findings (F1..F12) first, then the literature's (L1..), each by number."""
    return (f[:1] == "L", int(f[1:]) if f[1:].isdigit() else 99)


def is_literature(fid) -> bool:
    """A claim from the literature (claims/literature.py: L1..), not one of the post's findings."""
    return fid[:1] == "L" and fid[1:].isdigit()


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
                                          "related": r.get("related", []), "readings": [], "skipped": []})
        f["readings" if r["kind"] == "verdict" else "skipped"].append(r)
    for fid, f in out.items():
        finding = F.Finding(fid, f["claim"], "", f["primary_ids"])
        prim = {r["reading_id"]: r["verdict"] for r in f["readings"] if r["primary"]}
        f["combined"] = F.combine(finding, prim)
    return dict(sorted(out.items(), key=lambda kv: _finding_key(kv[0])))


def render(records, header: dict, other: dict | None = None) -> str:
    """other: the other data set's verdicts (read_other), for the cross-data-set table; None leaves it out."""
    rows = finding_rows(records)
    out = ["# Batch-size claims: verdict report", ""]
    out += [f"Each finding of Kevin Shen's post *Effect of batch size on training dynamics* (2018) is re-run "
            f"here and judged by a rule fixed in advance. Scale **{header['scale']}** "
            f"({header['scale_note']}), seeds {header['seeds']}, device {header['device_name']} "
            f"({header['device']}, {header['threads']} threads).", ""]
    mnist = header.get("dataset", "mnist") == "mnist"
    if not mnist:
        out += _dataset_caveat(header)
    if header["scale"] != "paper" and mnist:
        out += [f"> **Scale caveat.** This is the *{header['scale']}* scale ({header['scale_note']}): training "
                "stops earlier than the post's (BS64 at lr 0.01 ends near 94% test accuracy, not 98%), so its "
                "absolute numbers are not the post's. Its design was chosen so that its verdicts of the primary "
                "readings agree with the paper scale's (the next table checks that for this session); readings "
                "it cannot decide are declared paper-only and reported as not judged here.", ""]

    counts = defaultdict(int)
    table = []
    for fid, f in rows.items():
        if is_literature(fid):
            continue
        counts[f["combined"]["verdict"]] += 1
        table.append(_answer_row(fid, f, header["scale"]))
    out += ["## The answer: one verdict per finding", "",
            f"**{len(table)} findings: {counts['supported']} supported, {counts['contradicted']} contradicted, "
            f"{counts['inconclusive']} inconclusive, {counts[F.NOT_JUDGED]} not judged at this scale.**", "",
            "A finding's verdict rests on its *primary readings*: the post's claim under the post's protocol "
            "(mean/std inputs; the gradient experiment's literal vector sum), declared in `claims/post.py` before "
            "any multi-seed paper-scale result was read. It is supported if every primary reading is supported, "
            f"contradicted if Holm's procedure (family-wise alpha {F.ALPHA:g}, one-sided, over the finding's "
            "judged primary readings) rejects the claim for any of them, inconclusive otherwise. The numbers are "
            "each primary reading's effect with its 90% interval; the rule of each is in the finding's section.", "",
            tabulate(table, headers=["finding", "the post's claim (paraphrased)", "verdict", "decisive numbers",
                                     "n", "scale"], tablefmt="github"), ""]
    out += _beyond_section(rows, header)
    out += _datasets_section(rows, header, other)

    if header["scale"] != "paper" and mnist:  # the paper reference is MNIST's
        out += _agreement_section(rows)
    out += _readings_section(rows, primary=True)
    out += _readings_section(rows, primary=False)

    against = [(fid, g) for fid, f in rows.items() for g in merge_same(f["readings"])
               if g[0]["primary"] and g[0]["verdict"]["verdict"] != "supported" and not is_literature(fid)]
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
        out += [_related_line(rows, rel) for rel in f["related"]]
        proto = next((r.get("protocol") for r in f["readings"] if r.get("protocol")), None)
        if proto:
            out += ["", "Protocol: " + ", ".join(f"{k}={_value(v)}" for k, v in proto.items()) + "."]
        out += [""] + [f"![{fid}]({p})" for p in figs] + [""]

    skipped = [r for r in records if r["kind"] == "skipped"]
    if skipped:
        out += ["## Not run in this session", "", "These readings were skipped, so they have no verdict here:", ""]
        out += [f"- `{r['nodeid']}`: {r['reason']}" for r in sorted(skipped, key=lambda r: r["nodeid"])] + [""]

    out += _origins_section(header)
    out += ["## Provenance", "", tabulate(sorted(header["provenance"].items()), tablefmt="github",
                                           headers=["what", "value"]), "",
            f"Runs trained this session: {header['computed']}; read from the cache: {header['cached']}. "
            f"Session wall time {header['wall_s']:.0f} s. Generated {header['date']}.", ""]
    return "\n".join(out)


def _answer_row(fid, f, scale):
    """One row of an answer table: the claim, its combined verdict and each primary reading's numbers."""
    c = f["combined"]
    prim = {r["reading_id"]: r for r in f["readings"] if r["primary"]}
    decisive = "; ".join(f"{_name(prim[i])}: {prim[i]['verdict']['verdict']}, {_effect(prim[i]['verdict'])}"
                         for i in c["judged"])
    if c["not_judged"]:
        decisive += (" " if decisive else "") + f"({len(c['not_judged'])} of {len(f['primary_ids'])} primary " \
                                                f"readings not judged at this scale)"
    ns = sorted({prim[i]["verdict"]["n"] for i in c["judged"]})
    return [fid, f["claim"], ICON[c["verdict"]], decisive or "-", "; ".join(ns) or "-", scale]


def _beyond_section(rows, header):
    """The literature's claims (claims/literature.py), one row each, combined like the post's findings."""
    lit = {fid: f for fid, f in rows.items() if is_literature(fid)}
    if not lit:
        return []
    table = []
    for fid, f in lit.items():
        row = _answer_row(fid, f, header["scale"])
        source = next((r.get("section") for r in f["readings"] + f["skipped"] if r.get("section")), "-")
        table.append(row[:2] + [source] + row[2:])
    return ["## Beyond the post: claims from the literature", "",
            "Claims that papers on batch size and SGD make, judged on the post's MLP and protocol by rules fixed in "
            "advance, each combined from its primary readings (`claims/literature.py`) by the same rule as the "
            "post's findings. They do not enter the post's tally above.", "",
            tabulate(table, headers=["claim", "the paper's claim (paraphrased)", "source", "verdict",
                                     "decisive numbers", "n", "scale"], tablefmt="github"), ""]


DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def other_report(report_dir, dataset):
    """Where the other data set's verdicts.json sits beside this report: reports/fashion-mnist/ under an
    MNIST report dir, and the parent of a report dir named fashion-mnist (options.default_report_dir)."""
    report_dir = Path(report_dir)
    if dataset == "mnist":
        return "fashion-mnist", report_dir / "fashion-mnist" / "verdicts.json"
    return "mnist", (report_dir.parent / "verdicts.json" if report_dir.name == dataset else None)


def read_other(report_dir, dataset):
    """(the other data set, its header, its findings) from the verdicts.json beside; None where there is none."""
    other, path = other_report(report_dir, dataset)
    try:
        doc = json.loads(path.read_text())
        head, found = doc["header"], doc["findings"]
    except (AttributeError, OSError, ValueError, KeyError):
        return {"dataset": other, "path": str(path) if path else None, "header": None, "findings": {}}
    if head.get("dataset", "mnist") != other:  # a report of the same data set, or of another one
        return {"dataset": other, "path": str(path), "header": None, "findings": {}}
    return {"dataset": other, "path": str(path), "header": head, "findings": found}


def _datasets_section(rows, header, other):
    """Each finding's verdict on MNIST beside Fashion-MNIST (other: read_other's answer)."""
    if not other:
        return []
    here = header.get("dataset", "mnist")
    pair = sorted([here, other["dataset"]], key=lambda d: d != "mnist")
    found = {here: {fid: _cell(f["combined"]) for fid, f in rows.items()},
             other["dataset"]: {fid: _cell(f) for fid, f in other["findings"].items()}}
    ids = sorted(set(found[here]) | set(found[other["dataset"]]), key=_finding_key)
    claims = {fid: f["claim"] for fid, f in rows.items()} | {
        fid: f.get("claim", "") for fid, f in other["findings"].items() if fid not in rows}
    table = [[fid, claims[fid]] + [found[d].get(fid, "not run") for d in pair] for fid in ids]
    oh = other["header"]
    source = (f"The {DATASET_NAMES[other['dataset']]} column is read from `{other['path']}` ({oh['scale']} scale, "
              f"{oh['seeds']} seeds, generated {oh['date']})" if oh else
              f"No {DATASET_NAMES[other['dataset']]} report was found beside this one"
              + (f" (`{other['path']}`)" if other["path"] else " (its report dir is not named fashion-mnist)")
              + ": its column says \"not run\"")
    scales = "" if not oh or oh["scale"] == header["scale"] else \
        f" **Its scale ({oh['scale']}) differs from this report's ({header['scale']}).**"
    return ["## Across data sets: MNIST and Fashion-MNIST", "",
            "Every finding whose rule compares runs with each other is judged on both data sets by the same rule "
            "(`--dataset`); readings built on the post's absolute MNIST numbers do not run on Fashion-MNIST. "
            f"{source}.{scales} Rerun the other data set's session (with `--no-train` it trains nothing) to "
            "refresh its column.", "",
            tabulate(table, headers=["finding", "claim (paraphrased)"] + [f"{DATASET_NAMES[d]} verdict" for d in pair],
                     tablefmt="github"), ""]


def _cell(combined):
    """A finding's verdict, and how many of its primary readings ran when not all did."""
    judged, missing = len(combined.get("judged", ())), len(combined.get("not_judged", ()))
    v = ICON.get(combined["verdict"], combined["verdict"])
    return f"{v} ({judged} of {judged + missing} primary readings)" if missing and judged else v


def _dataset_caveat(header):
    name = DATASET_NAMES.get(header["dataset"], header["dataset"])
    return [f"> **Data set.** These runs use **{name}**, not the post's MNIST: the post's protocol on other "
            f"images of the same shape (mean/std of {name}'s own training images). Only relations between runs "
            "are judged; readings built on the post's absolute MNIST numbers (the fidelity table, F12's cosine "
            "thresholds: `claims/post.py`, ABSOLUTE_MNIST) are not applicable and were skipped, and no paper-scale "
            f"reference exists for {name}, so the quick-vs-paper table is left out.", ""]


def _origins_section(header):
    """Where the runs came from: trained here, the local cache, published records; which machine."""
    rows = header.get("origins") or []
    if not rows:
        return []
    out = ["## Where the runs came from", "",
           "Each run is keyed by its protocol and the numerics version of the code that computed it "
           "(harness/numerics.py), not by the machine: a published record (reports/reference-paper/runs/) "
           "decides wherever it exists. Compute time is each run's own wall time on its machine.", "",
           tabulate([[r["source"], r["machine"], r["runs"], f"{r['compute_h']:.2f}"] for r in rows],
                    headers=["source", "machine", "runs", "compute (h)"], tablefmt="github"), ""]
    cost = header.get("cost") or []
    if cost:
        out += ["What each finding's readings cost: the own wall time (on its machine) of every run and gradient "
                "chunk they read, and of those these were computed from. Runs are shared, so a run several "
                "findings read counts for each, and the findings add up to more than the last row.", "",
                tabulate([[r["finding"], r["entries"], f"{r['core_s'] / 60:.1f}", f"{r['trained_core_s'] / 60:.1f}"]
                          for r in cost], headers=["finding", "entries", "core-minutes", "of them trained now"],
                         tablefmt="github", disable_numparse=True), ""]
    compared = header.get("compared") or []
    if compared:
        worst = max(compared, key=lambda c: c["max |diff|"])
        out += [f"{len(compared)} run(s) exist both as a published record and in this machine's cache; the "
                f"published record decided. Largest difference of their final numbers (test accuracy, train "
                f"loss, distance, norm; gradient norms): {worst['max |diff|']:.3g} ({worst['run']}, local "
                f"machine {worst['local machine']}). Run with `--records none` to judge the local runs alone and "
                f"compare the two verdicts.json with tools/compare_verdicts.py.", ""]
    return out


def _related_line(rows, rel):
    """A reading another finding owns, shown beside this finding's readings, not judged here."""
    owner = rows.get(rel["finding"], {})
    src = next((r for r in owner.get("readings", []) if r["reading_id"] == rel["reading"]), None)
    head = f"- Related, not judged here: {rel['finding']}'s `{rel['reading']}`"
    if src is None:
        skip = next((r["reason"] for r in owner.get("skipped", []) if r["reading_id"] == rel["reading"]), None)
        return f"{head}: not run {f'here ({skip})' if skip else 'in this session'}. {rel['why']}"
    v = src["verdict"]
    return f"{head} ({_name(src)}): **{v['verdict']}**, effect {_effect(v)}, n={v['n']}. {rel['why']}"




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
            f"(`{agreement.REFERENCE.relative_to(agreement.REFERENCE.parents[2])}`). They agree when the verdicts are "
            f"equal (against a one-seed paper point: when the verdict here is decided and on the point's side of the "
            f"rule's margin). "
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
    other = read_other(report_dir, header.get("dataset", "mnist"))
    rows = finding_rows(records)
    findings = {fid: dict(f["combined"], claim=f["claim"]) for fid, f in rows.items()}
    atomic.write_text(report_dir / "verdicts.md", render(records, header, other))
    atomic.write_text(report_dir / "verdicts.json", json.dumps({"header": header, "findings": findings,
                                                            "records": records}, indent=1, default=str))
    return report_dir / "verdicts.md"


def now():
    return time.strftime("%Y-%m-%d %H:%M:%S %Z")
