"""One answer per finding (harness/findings.py): Holm's procedure and the
combination of primary readings, on verdicts with known p-values."""
import pytest

from harness import findings as F
from harness import verdicts as V

FIND = F.Finding("F0", "claim", "-", ("a", "b", "c"))


def rec(verdict, p):
    return {"verdict": verdict, "p_contra": p}


def test_holm_steps_down():
    assert F.holm([0.01, 0.04, 0.03]) == [True, False, False]  # 0.01 <= .05/3; 0.03 > .05/2 stops
    assert F.holm([0.01, 0.02, 0.04]) == [True, True, True]    # .0167, .025, .05
    assert F.holm([0.2, 0.01]) == [False, True]


@pytest.mark.parametrize("verdicts, expected", [
    ({"a": rec("supported", 0.99), "b": rec("supported", 0.9), "c": rec("supported", 0.8)}, "supported"),
    ({"a": rec("supported", 0.99), "b": rec("contradicted", 0.001), "c": rec("supported", 0.8)}, "contradicted"),
    # contradicted on its own (p < 0.05) but not after Holm over three readings: inconclusive
    ({"a": rec("supported", 0.99), "b": rec("contradicted", 0.03), "c": rec("inconclusive", 0.5)}, "inconclusive"),
    ({"a": rec("supported", 0.99), "b": rec("inconclusive", 0.3)}, "inconclusive"),
    ({}, F.NOT_JUDGED),
])
def test_combine(verdicts, expected):
    out = F.combine(FIND, verdicts)
    assert out["verdict"] == expected
    assert out["not_judged"] == [r for r in FIND.primary if r not in verdicts]


def test_rules_carry_contradiction_p_values_consistent_with_their_interval():
    hi, lo = [98.0, 98.1, 97.9, 98.05], [96.0, 96.1, 95.9, 96.05]
    assert V.superiority(lo, hi).p_contra < 0.05            # contradicted: significant
    assert V.superiority(hi, lo).p_contra > 0.95
    v = V.noninferiority([97.0, 98.6, 96.9, 98.4], hi, delta=0.5)
    assert v.verdict == "inconclusive" and 0.05 < v.p_contra < 0.95
    boot = V.greater(*V.bootstrap_rows(lambda a: a.mean(), [[1.0], [1.2], [0.9], [1.1]] * 5), 2.0)
    assert boot.verdict == "contradicted" and boot.p_contra < 0.05
