"""The committed rules of the primary readings: one place, versioned.

A finding's headline rests on its primary readings (claims/post.py); their
rules and margins are fixed before the runs they judge. claims/rules.json
records, for each primary reading, the rule text and margin its verdict
carries, under a version number. Two checks keep it honest:
- every primary reading's verdict is compared with the lock when it is handed
  over (claim.Reading): a rule or margin that differs fails the reading, with
  the fix;
- tests/test_rules.py holds the hash of each version's rules: editing the lock
  without adding a new version (and its hash) fails the unit tests.

To change a primary rule: edit the claim module, run the claims, then
`python -m harness.rules <report>/verdicts.json claims/rules.json`, which
writes the new rules under version + 1 and prints the hash for tests/test_rules.py.
"""
import functools
import hashlib
import json
import math
import sys
from pathlib import Path

from . import atomic


def digest(rules: dict) -> str:
    """sha256 (16 hex digits) of the rules table, independent of key order."""
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=4)
def load(path) -> dict:
    p = Path(path)
    if not p.exists():
        return {}
    doc = json.loads(p.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), dict) or not isinstance(doc.get("version"), int):
        raise ValueError(f"{p}: not a rules lock (expected {{'version': int, 'rules': {{...}}}})")
    return doc


def locked_form(rule: str, margin, margin_rule: str = "") -> dict:
    """What the lock holds of a verdict's rule: its text and margin, or, for a
    margin derived from the data (Verdict.margin_rule, e.g. "10% of BS64's mean
    W"), that rule, with the number it gave at this scale masked in the text."""
    if margin_rule:
        return {"rule": rule.replace(f"{abs(margin):g}", "<margin>"), "margin": margin_rule}
    return {"rule": rule, "margin": None if isinstance(margin, float) and math.isnan(margin) else margin}


def mismatch(path, finding: str, reading_id: str, rule: str, margin: float, margin_rule: str = "") -> str | None:
    """Why a primary reading's verdict differs from its locked rule, or None."""
    doc = load(str(path))
    if not doc:
        return None  # no lock yet (a new project): nothing to compare with
    locked = doc["rules"].get(finding, {}).get(reading_id)
    fix = (f"rules of primary readings change only under a new version: rerun the claims and run "
           f"`python -m harness.rules <report>/verdicts.json {path}`, then add its hash to tests/test_rules.py")
    if locked is None:
        return None  # not locked yet (a paper-only reading no locked session has run): tests/test_rules.py lists them
    now = locked_form(rule, margin, margin_rule)
    if locked["rule"] != now["rule"] or locked["margin"] != now["margin"]:
        return (f"the rule of primary reading {finding} {reading_id} differs from rules version {doc['version']} "
                f"(locked: {locked['rule']!r}, margin {locked['margin']}; now: {rule!r}, margin {margin}): {fix}")
    return None


def from_report(verdicts_json) -> dict:
    """{finding: {reading id: {"rule", "margin"}}} of a session's primary readings."""
    doc = json.loads(Path(verdicts_json).read_text())
    out: dict = {}
    for r in doc["records"]:
        if r.get("kind") == "verdict" and r.get("primary"):
            v = r["verdict"]
            out.setdefault(r["finding"], {})[r["reading_id"]] = locked_form(v["rule"], v["margin"],
                                                                            v.get("margin_rule", ""))
    return out


def lock(reports, path):
    """Write the primary rules of the reports (verdicts.json files; e.g. one quick,
    one paper) over the locked ones as the next version; return (version, digest).
    Readings none of the reports ran keep their locked rule."""
    p = Path(path)
    old = json.loads(p.read_text()) if p.exists() else {"version": 0, "rules": {}}
    rules = json.loads(json.dumps(old["rules"]))
    for report in reports:
        for finding, readings in from_report(report).items():
            rules.setdefault(finding, {}).update(readings)
    if rules == old["rules"]:
        return old["version"], digest(rules)
    version = old["version"] + 1
    atomic.write_text(p, json.dumps({"version": version, "rules": rules}, indent=1, sort_keys=True) + "\n")
    return version, digest(rules)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python -m harness.rules <report>/verdicts.json [more verdicts.json] claims/rules.json")
    v, h = lock(sys.argv[1:-1], sys.argv[-1])
    print(f"rules version {v}, digest {h}: add  {v}: \"{h}\",  to VERSIONS in tests/test_rules.py")
