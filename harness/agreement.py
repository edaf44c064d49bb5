"""Does the quick scale predict the paper scale? Each primary reading's quick
verdict beside the paper scale's, from a committed paper reference report.

With a one-seed paper point estimate (no interval), the two agree when the
quick verdict is decided and on the same side of the rule's margin as the
paper point; an inconclusive quick verdict does not agree. With a multi-seed
paper verdict they agree when the verdicts are equal. Readings the paper
reference lacks are "pending"; readings not run at the quick scale (declared
paper-only) are "not judged", with the reason.
"""
import json
import math
import re
from pathlib import Path

# The paper campaign's report (3 seeds); reports/reference-paper-1seed/ was the one-seed reference before it.
REFERENCE = Path(__file__).resolve().parents[1] / "reports" / "reference-paper" / "verdicts.json"


def side(v: dict) -> str:
    """The side of the rule's margin a verdict's point estimate falls on."""
    rule, e, m = v["rule"], v["effect"], v["margin"]
    within = re.search(r"within (-?[\d.]+)? ?\+-", rule)
    if within or rule.startswith("|"):  # "x within T +- M", "|x| < M" (TOST): inside the band
        target = float(within.group(1)) if within and within.group(1) else 0.0
        return "supported" if abs(e - target) < m else "contradicted"
    head = rule.split(" AND ")[0]
    if " < " in head and " > " not in head:
        return "supported" if e < m else "contradicted"
    return "supported" if e > m else "contradicted"


def paper_readings(path=REFERENCE) -> dict:
    """reading id -> record, from a paper-scale verdicts.json ({} if absent)."""
    try:
        recs = json.loads(Path(path).read_text())["records"]
    except (OSError, ValueError, KeyError):
        return {}
    return {r["nodeid"].split("::")[1]: r for r in recs if r.get("kind") == "verdict"}


def headlines(path=REFERENCE) -> dict:
    """finding id -> its headline verdict, from a verdicts.json ({} if absent). A
    quick design must keep these too: a reading can keep its verdict while its
    wider interval turns the finding's combined verdict (quick design study, Q5)."""
    try:
        return {fid: f["verdict"] for fid, f in json.loads(Path(path).read_text())["findings"].items()}
    except (OSError, ValueError, KeyError):
        return {}


def compare(primary: list[tuple[str, str]], quick: dict, skipped: dict, paper: dict) -> list[dict]:
    """primary: [(finding, reading id)]; quick / paper: reading id -> verdict record;
    skipped: reading id -> reason."""
    rows = []
    for fid, rid in primary:
        q, p = quick.get(rid), paper.get(rid)
        row = {"finding": fid, "reading": rid}
        if q is None:
            rows.append(row | {"quick": "not judged", "paper": p and side(p["verdict"]), "agree": None,
                               "why": skipped.get(rid, "not run")})
            continue
        qv = q["verdict"]
        row |= {"quick": qv["verdict"], "quick_effect": qv["effect"], "quick_ci": list(qv["ci"])}
        if p is None:
            rows.append(row | {"paper": "pending", "agree": None})
            continue
        pv = p["verdict"]
        if any(math.isnan(x) for x in pv["ci"]):
            s = side(pv)
            rows.append(row | {"paper": f"{s} side (1 seed: {pv['effect']:.4g})", "agree": qv["verdict"] == s})
        else:
            rows.append(row | {"paper": pv["verdict"], "agree": qv["verdict"] == pv["verdict"]})
    return rows
