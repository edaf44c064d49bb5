"""The report's parts beyond one data set's findings: the literature's claims
(L1..) apart from the post's tally, and each finding's verdict on MNIST beside
Fashion-MNIST, read from the other data set's verdicts.json beside."""
import json

from harness import report


def verdict(fid, rid, state, section="the post"):
    v = {"verdict": state, "rule": "effect > 0", "effect": 1.0, "ci": [0.5, 1.5], "n": "3 seeds", "margin": 0.0,
         "confidence": 0.9, "detail": "", "p_contra": {"supported": 0.9, "contradicted": 0.001}.get(state, 0.5)}
    return {"kind": "verdict", "finding": fid, "claim": f"claim {fid}", "primary_ids": [rid], "reading_id": rid,
            "primary": True, "section": section, "verdict": v, "reading": f"reading {rid}", "scaling": "standard",
            "nodeid": f"claims/x.py::{rid}", "post": "", "ours": ""}


def header(dataset):
    return {"scale": "quick", "scale_note": "note", "seeds": 3, "device_name": "cpu", "device": "cpu", "threads": 2,
            "provenance": {"commit": "abc"}, "computed": 0, "cached": 0, "wall_s": 1.0, "date": "today",
            "dataset": dataset}


RECORDS = [verdict("F1", "test_a[standard]", "supported"), verdict("F2", "test_b[standard]", "contradicted"),
           verdict("L5", "test_c[standard]", "inconclusive", section="Hoffer et al. 2017, arXiv:1705.08741")]


def test_literature_claims_have_their_own_table_and_stay_out_of_the_post_tally():
    md = report.render(RECORDS, header("mnist"))
    answer, beyond = md.split("## The answer")[1].split("## Beyond the post")
    assert "**2 findings: 1 supported, 1 contradicted, 0 inconclusive" in answer and "| L5 " not in answer
    assert "| L5 " in beyond and "arXiv:1705.08741" in beyond and "*inconclusive*" in beyond
    assert "F2 (" in md.split("## Where our data do not support the post")[1] and \
        "L5 (" not in md.split("## Where our data do not support the post")[1].split("##")[0]


def test_each_data_set_reads_the_others_verdicts_beside(tmp_path):
    mnist_dir, fashion_dir = tmp_path / "reports", tmp_path / "reports" / "fashion-mnist"
    fashion_dir.mkdir(parents=True)  # the session creates its report dir (harness/options.py)
    report.write(mnist_dir, RECORDS, header("mnist"))
    md = (mnist_dir / "verdicts.md").read_text()
    table = md.split("## Across data sets")[1].split("\n## ")[0]
    assert "No Fashion-MNIST report was found" in table and "| F1 " in table and "not run" in table

    fashion = [verdict("F1", "test_a[standard]", "contradicted"), verdict("F2", "test_b[standard]", "supported")]
    report.write(fashion_dir, fashion, header("fashion-mnist"))
    table = (fashion_dir / "verdicts.md").read_text().split("## Across data sets")[1].split("\n## ")[0]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[3:5]]
            for line in table.splitlines() if line.startswith("| F") or line.startswith("| L")}
    assert rows["F1"] == ["supported", "**CONTRADICTED**"]   # MNIST first, then Fashion-MNIST
    assert rows["F2"] == ["**CONTRADICTED**", "supported"]
    assert rows["L5"] == ["*inconclusive*", "not run"]        # not run on Fashion-MNIST
    assert json.loads((fashion_dir / "verdicts.json").read_text())["header"]["dataset"] == "fashion-mnist"
    assert "## Data set" not in table and "**Fashion-MNIST**" in (fashion_dir / "verdicts.md").read_text()


def test_a_report_of_the_wrong_data_set_beside_is_not_read(tmp_path):
    (tmp_path / "fashion-mnist").mkdir()
    report.write(tmp_path / "fashion-mnist", RECORDS, header("mnist"))  # an MNIST report where Fashion's belongs
    assert report.read_other(tmp_path, "mnist")["findings"] == {}
    assert report.read_other(tmp_path / "elsewhere", "fashion-mnist")["path"] is None


def test_every_literature_claim_has_its_row_in_order():
    recs = RECORDS + [verdict("L2", "test_d[linear+warmup-BS256]", "supported", section="Goyal et al. 2017"),
                      verdict("L1", "test_e", "contradicted", section="McCandlish et al. 2018")]
    beyond = report.render(recs, header("mnist")).split("## Beyond the post")[1].split("\n## ")[0]
    rows = [line.split("|")[1].strip() for line in beyond.splitlines() if line.startswith("| L")]
    assert rows == ["L1", "L2", "L5"]


def test_each_finding_costs_the_entries_its_readings_read_and_those_counted_once_in_all():
    """A run two findings read counts for each; the last row counts every entry the
    session touched once; the own wall time of a record decides, not the wait for it."""
    from harness.session import _cost_by_finding
    computed = {"a": {"run_wall_s": 60.0, "wall_s": 61.0}, "b": {"run_wall_s": 120.0}}
    cached = {"c": {"run_wall_s": 30.0}, "d": {"wall_s": 6.0}}
    rows = _cost_by_finding({"L1": {"a", "c"}, "F10": {"a", "b"}, "F2": {"d", "gone"}, "test_fidelity": {"b"}},
                            computed, cached)
    assert [r["finding"] for r in rows] == ["F2", "F10", "L1", "test_fidelity", "all (each entry once)"]
    by = {r["finding"]: r for r in rows}
    assert (by["F10"]["core_s"], by["F10"]["trained_core_s"], by["F10"]["entries"]) == (180.0, 180.0, 2)
    assert (by["L1"]["core_s"], by["L1"]["trained_core_s"]) == (90.0, 60.0)
    assert (by["F2"]["core_s"], by["F2"]["entries"]) == (6.0, 1)  # an entry no event names counts nothing
    assert (by["all (each entry once)"]["core_s"], by["all (each entry once)"]["entries"]) == (216.0, 4)
    md = report.render(RECORDS, header("mnist") | {"origins": [{"source": "trained this session", "machine": "m",
                                                                 "runs": 4, "compute_h": 0.06}], "cost": rows})
    import re
    assert re.search(r"\| F10 +\| 2 +\| 3\.0 +\| 3\.0 +\|", md) and "What each finding's readings cost" in md, md
