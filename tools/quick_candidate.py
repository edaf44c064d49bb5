"""A pytest plugin for the quick-scale design study (tools/quick_design.py):
loaded with `-p tools.quick_candidate`, it replaces the quick scale by the
candidate given as JSON in BSC_QUICK_CANDIDATE (Scale fields), before the
session reads its options. Nothing else loads it."""
import json
import os

from harness import scales

_fields = json.loads(os.environ.get("BSC_QUICK_CANDIDATE", "{}"))
if _fields:
    scales.SCALES["quick"] = scales.Scale(**{"name": "quick", **_fields})
