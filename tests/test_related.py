"""Related readings (harness/findings.Related): another finding's reading shown
in a finding's report section, never entering its verdict."""
from harness import findings as F
from harness import report

OWNER = "test_owner[x-standard]"
REL = {"finding": "F9", "reading": OWNER, "why": "the same runs, judged there"}


def verdict_record(finding, reading_id, verdict, primary=True, related=()):
    v = {"verdict": verdict, "effect": -0.1, "ci": (-0.3, 0.1), "n": "3 paired seeds", "rule": "r", "detail": "",
         "p_contra": 0.5, "margin": 0.5, "confidence": 0.9}
    return {"kind": "verdict", "finding": finding, "claim": "c", "primary_ids": [reading_id], "reading_id": reading_id,
            "primary": primary, "related": list(related), "reading": "a reading", "verdict": v, "scaling": "standard"}


def test_related_reading_is_shown_not_judged():
    recs = [verdict_record("F1", "test_mine[standard]", "supported", related=[REL]),
            verdict_record("F9", OWNER, "contradicted")]
    rows = report.finding_rows(recs)
    assert rows["F1"]["combined"]["verdict"] == "supported"     # F9's contradiction does not reach F1
    line = report._related_line(rows, REL)
    assert line.startswith("- Related, not judged here: F9's `test_owner[x-standard]`") and "contradicted" in line


def test_related_reading_not_run():
    rows = report.finding_rows([verdict_record("F1", "test_mine[standard]", "supported", related=[REL])])
    assert "not run in this session" in report._related_line(rows, REL)


def test_finding_declares_related_readings():
    f = F.Finding("F1", "c", "s", ("a",), related=(F.Related("F9", OWNER, "why"),))
    assert not f.is_primary(OWNER) and f.related[0].finding == "F9"


def test_related_reading_skipped_here_shows_why():
    recs = [verdict_record("F1", "test_mine[standard]", "supported", related=[REL]),
            {"kind": "skipped", "finding": "F9", "claim": "c", "primary_ids": [OWNER], "reading_id": OWNER,
             "primary": True, "related": [], "reason": "paper-scale reading"}]
    assert "not run here (paper-scale reading)" in report._related_line(report.finding_rows(recs), REL)
