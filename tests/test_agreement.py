"""harness/agreement.py: does a quick verdict agree with the paper scale's?"""
import math

from harness import agreement


def _rec(verdict, effect, ci, rule="x > 0", margin=0.0):
    return {"verdict": {"verdict": verdict, "effect": effect, "ci": ci, "rule": rule, "margin": margin}}


def test_multi_seed_paper_verdicts_agree_only_when_equal():
    paper = {"a": _rec("supported", 1.0, [0.5, 1.5]), "b": _rec("supported", 1.0, [0.5, 1.5]),
             "c": _rec("contradicted", -1.0, [-1.5, -0.5])}
    quick = {"a": _rec("supported", 2.0, [1.0, 3.0]), "b": _rec("inconclusive", 0.2, [-0.3, 0.7]),
             "c": _rec("contradicted", -2.0, [-3.0, -1.0])}
    rows = {r["reading"]: r for r in agreement.compare([("F1", k) for k in "abc"], quick, {}, paper)}
    assert [rows[k]["agree"] for k in "abc"] == [True, False, True]


def test_one_seed_paper_point_agrees_on_its_side_of_the_margin():
    nan = [math.nan, math.nan]
    paper = {"up": _rec("inconclusive", 0.8, nan, margin=0.5), "down": _rec("inconclusive", 0.2, nan, margin=0.5),
             "band": _rec("inconclusive", 0.1, nan, rule="|x| < 0.3", margin=0.3)}
    quick = {"up": _rec("supported", 0.9, [0.6, 1.2], margin=0.5),
             "down": _rec("supported", 0.9, [0.6, 1.2], margin=0.5),
             "band": _rec("inconclusive", 0.1, [-0.4, 0.6], rule="|x| < 0.3", margin=0.3)}
    rows = {r["reading"]: r for r in agreement.compare([("F1", k) for k in quick], quick, {}, paper)}
    assert rows["up"]["agree"] is True
    assert rows["down"]["agree"] is False       # the paper point lies below the margin
    assert rows["band"]["agree"] is False       # an undecided quick verdict never agrees


def test_missing_readings_are_pending_or_not_judged_with_the_reason():
    paper = {"p": _rec("supported", 1.0, [0.5, 1.5])}
    rows = agreement.compare([("F1", "p"), ("F1", "q")], {"q": _rec("supported", 1.0, [0.5, 1.5])},
                             {"p": "paper-only at quick scale"}, paper)
    assert rows[0]["quick"] == "not judged" and rows[0]["why"] == "paper-only at quick scale" and rows[0]["agree"] is None
    assert rows[1]["paper"] == "pending" and rows[1]["agree"] is None


def test_the_reference_is_the_committed_multi_seed_paper_report():
    paper = agreement.paper_readings()
    assert paper, f"{agreement.REFERENCE} holds no verdicts"
    assert all(not any(math.isnan(x) for x in r["verdict"]["ci"]) for r in paper.values())


def test_headlines_are_read_per_finding(tmp_path):
    import json
    p = tmp_path / "verdicts.json"
    p.write_text(json.dumps({"findings": {"F8": {"verdict": "inconclusive"}, "F1": {"verdict": "supported"}}}))
    assert agreement.headlines(p) == {"F8": "inconclusive", "F1": "supported"}
    assert agreement.headlines(tmp_path / "missing.json") == {}
    assert agreement.headlines()["F4"] == "contradicted"  # the committed paper report
