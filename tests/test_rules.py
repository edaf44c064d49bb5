"""The committed rules of the primary readings (claims/rules.json, harness/rules.py)."""
import json
from pathlib import Path

from harness import rules

LOCK = Path(__file__).resolve().parents[1] / "claims" / "rules.json"
# Each rules version's digest. A primary rule or margin changes only by adding a
# version here (python -m harness.rules prints it): never by editing one.
VERSIONS = {
    1: "1663ba67e63bfbf8",  # 2026-12-01: issue 13's rules, locked from the quick suite before any multi-seed paper run
    2: "9161b1a0b2696428",  # 2026-12-01: F9/F10's distance margins locked as their rule (10% of BS64's mean W), not
    #                         the number it gave on quick MNIST, which failed them on Fashion-MNIST; same verdicts
    3: "17a655888b4455ab",  # 2026-12-01: issue 15's L1-L4 primaries, locked from their first merged quick run (MNIST)
    4: "c307b1fca66bc0e7",  # 2026-12-01: F2 "recovers" and F9 "lr 0.1 reaches ~6", paper-only, locked at their first
    #                         paper run (the campaign's records, 3 seeds); no other rule changed
}
# Primary readings no locked session has run yet (paper-only ones, until the
# campaign's records judge them): their rules are locked at their first run.
PENDING: dict = {}


def test_the_lock_matches_its_version():
    doc = json.loads(LOCK.read_text())
    assert doc["version"] == max(VERSIONS), (f"claims/rules.json is version {doc['version']}, "
                                             f"tests/test_rules.py knows up to {max(VERSIONS)}")
    assert rules.digest(doc["rules"]) == VERSIONS[doc["version"]], (
        f"claims/rules.json changed without a new version: a primary rule or margin changes only under "
        f"a new version (python -m harness.rules <report>/verdicts.json claims/rules.json)")


def test_every_primary_reading_has_a_locked_rule():
    from claims import literature, post
    doc = json.loads(LOCK.read_text())
    findings = list(post.FINDINGS.values()) + list(literature.LITERATURE.values())
    missing = [(f.id, r) for f in findings for r in f.primary
               if r not in doc["rules"].get(f.id, {}) and r not in PENDING.get(f.id, ())]
    assert missing == []


def _lock(tmp_path, rule="effect > 0.5", margin=0.5):
    p = tmp_path / "rules.json"
    p.write_text(json.dumps({"version": 3, "rules": {"F9": {"test_x[a]": {"rule": rule, "margin": margin}}}}))
    rules.load.cache_clear()
    return p


def test_a_changed_rule_or_margin_is_named_with_the_fix(tmp_path):
    p = _lock(tmp_path)
    assert rules.mismatch(p, "F9", "test_x[a]", "effect > 0.5", 0.5) is None
    msg = rules.mismatch(p, "F9", "test_x[a]", "effect > 0.4", 0.4)
    assert "differs from rules version 3" in msg and "python -m harness.rules" in msg
    assert rules.mismatch(p, "F9", "test_x[a]", "effect > 0.5", 0.6) is not None
    assert rules.mismatch(p, "F9", "test_y[a]", "anything", 1.0) is None  # not locked yet


def test_lock_writes_the_next_version_and_keeps_readings_the_report_did_not_run(tmp_path):
    p = _lock(tmp_path)
    report = tmp_path / "verdicts.json"
    report.write_text(json.dumps({"records": [
        {"kind": "verdict", "primary": True, "finding": "F1", "reading_id": "test_z",
         "verdict": {"rule": "r", "margin": float("nan")}},
        {"kind": "verdict", "primary": False, "finding": "F1", "reading_id": "test_w",
         "verdict": {"rule": "s", "margin": 1.0}}]}))
    v, h = rules.lock([report], p)
    doc = json.loads(p.read_text())
    assert v == 4 == doc["version"] and h == rules.digest(doc["rules"])
    assert doc["rules"]["F1"] == {"test_z": {"rule": "r", "margin": None}}  # primary only; NaN margin as null
    assert "test_x[a]" in doc["rules"]["F9"]
    assert rules.lock([report], p)[0] == 4  # unchanged rules: no new version


def test_a_margin_derived_from_the_data_is_locked_as_its_rule(tmp_path):
    """10% of a reference run's W is a different number at each scale and on each
    data set: the lock holds the rule that sets it, and the text without it."""
    from harness import verdicts
    locked = rules.locked_form("W(arm) - W(BS64) > -0.293382 (non-inferiority)", -0.2933816571771494, "10% of W")
    assert locked == {"rule": "W(arm) - W(BS64) > -<margin> (non-inferiority)", "margin": "10% of W"}
    p = tmp_path / "rules.json"
    p.write_text(json.dumps({"version": 3, "rules": {"F9": {"test_x[a]": locked}}}))
    rules.load.cache_clear()
    assert rules.mismatch(p, "F9", "test_x[a]", "W(arm) - W(BS64) > -0.267478 (non-inferiority)", -0.267478,
                          "10% of W") is None  # another data set's number, the same rule
    assert rules.mismatch(p, "F9", "test_x[a]", "W(arm) - W(BS64) > -0.2 (non-inferiority)", -0.2,
                          "5% of W") is not None  # a different rule
    assert rules.mismatch(p, "F9", "test_x[a]", "W(arm) - W(BS64) > -0.2 (non-inferiority)", -0.2) is not None
    v = verdicts.relative_margin(verdicts.paired_noninferiority([1.0, 2.0, 3.0], [1.1, 2.0, 3.2], 0.2), "10% of W")
    assert v.margin_rule == "10% of W" and v.as_dict()["margin_rule"] == "10% of W"
