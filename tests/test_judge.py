"""The claims' `judge` fixture (claims/conftest.py): pytest's outcome mirrors
the verdict, KNOWN readings are strict xfails, UNSETTLED readings xfail only
when inconclusive. Runs the real fixture on a generated claim module."""
from pathlib import Path

pytest_plugins = ["pytester"]

CLAIMS_CONFTEST = Path(__file__).resolve().parents[1] / "claims" / "conftest.py"

MODULE = '''
import types
import pytest
from harness.verdicts import Verdict

KNOWN = {("quick", "known-contradicted"): "measured", ("quick", "known-supported"): "measured"}
UNSETTLED = {("quick", "unsettled-" + v): "cpu-dependent" for v in ("supported", "inconclusive", "contradicted")}

@pytest.fixture(scope="session")
def ctx():
    return types.SimpleNamespace(scale=types.SimpleNamespace(name="quick"))

@pytest.mark.parametrize("rid, verdict", [
    ("plain-supported", "supported"), ("plain-inconclusive", "inconclusive"),
    ("known-contradicted", "contradicted"), ("known-supported", "supported"),
    ("unsettled-supported", "supported"), ("unsettled-inconclusive", "inconclusive"),
    ("unsettled-contradicted", "contradicted"),
])
def test_reading(judge, rid, verdict):
    judge(rid, Verdict(verdict, "rule", 0.0, (0.0, 0.0), "3 seeds", 0.0))
'''


def test_outcomes_follow_the_verdict(pytester):
    pytester.makeconftest(CLAIMS_CONFTEST.read_text())
    pytester.makepyfile(test_claim=MODULE)
    result = pytester.runpytest_inprocess("-p", "no:xdist", "-p", "no:cacheprovider", "-rA")
    outcome = {}  # reading id -> PASSED / FAILED / XFAIL / XPASS, from the -rA summary
    for line in result.outlines:
        word, _, rest = line.partition(" ")
        if word in ("PASSED", "FAILED", "XFAIL", "XPASS") and "[" in rest:
            outcome[rest.split("[", 1)[1].split("]")[0].rsplit("-", 1)[0]] = word
    assert outcome == {
        "plain-supported": "PASSED", "plain-inconclusive": "FAILED",
        "known-contradicted": "XFAIL", "known-supported": "FAILED",  # strict: an unexpected pass fails
        "unsettled-supported": "PASSED", "unsettled-inconclusive": "XFAIL",
        "unsettled-contradicted": "FAILED",
    }, result.outlines
