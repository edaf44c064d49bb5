"""What the paper-scale campaign has published so far: runs, machines, compute.

    python tools/campaign_status.py [reports/reference-paper/runs]

Reads the published records (harness/records.py) and prints a markdown summary:
each run with its machine and wall time, and the totals by machine. Trains
nothing; the records' JSON is checked by records.read like any session's."""
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness import records  # noqa: E402
from harness.context import made_by  # noqa: E402


def main(folder):
    rows, by_machine = [], defaultdict(lambda: [0, 0.0])
    for p in sorted(Path(folder).glob("*.json")):
        doc = records.read(folder, p.stem)
        run = json.loads(p.read_text())["run"]
        who = made_by(doc)
        hours = (who["run_wall_s"] or 0) / 3600
        rows.append((run, who["machine"], hours))
        by_machine[who["machine"]][0] += 1
        by_machine[who["machine"]][1] += hours
    print(f"{len(rows)} published runs in {folder}\n")
    print("| run | machine | wall (h) |\n|---|---|---|")
    for run, machine, h in rows:
        print(f"| {run} | {machine} | {h:.2f} |")
    print("\n| machine | runs | compute (h) |\n|---|---|---|")
    for machine, (n, h) in by_machine.items():
        print(f"| {machine} | {n} | {h:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ROOT / "reports" / "reference-paper" / "runs")
