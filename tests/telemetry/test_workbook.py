"""infra/workbook.json: an Azure Monitor workbook whose queries name only the metrics and dimensions warden sends
(warden/telemetry_names.py), every metric at least once; and infra/app/warden.bicep deploys it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from warden.model import Outcome
from warden.telemetry_names import LOG_DIMENSIONS, METRIC_DIMENSIONS, METRICS

INFRA = Path(__file__).resolve().parents[2] / "infra"
WORKBOOK = INFRA / "workbook.json"
METRIC_NAME = re.compile(r'\bname == "([^"]+)"')
DIMENSION = re.compile(r'customDimensions\["([^"]+)"\]')
OUTCOMES = re.compile(r'customDimensions\["outcome"\]\) in \(([^)]*)\)')


def queries() -> list[dict[str, Any]]:
    doc = json.loads(WORKBOOK.read_text(encoding="utf-8"))
    return [item["content"] for item in doc["items"] if item["type"] == 3]


def test_the_schema_basics() -> None:
    doc = json.loads(WORKBOOK.read_text(encoding="utf-8"))
    assert doc["version"] == "Notebook/1.0"
    names = [item["name"] for item in doc["items"]]
    assert len(names) == len(set(names)), "item names must be unique"
    parameters = [p["name"] for item in doc["items"] if item["type"] == 9 for p in item["content"]["parameters"]]
    assert parameters == ["TimeRange"]
    for content in queries():
        assert content["version"] == "KqlItem/1.0" and content["title"] and content["query"].strip()
        assert content["timeContextFromParameter"] == "TimeRange"
        assert content["query"].split("\n")[0] in ("customMetrics", "traces")


def test_every_metric_queried_is_declared_and_every_declared_metric_is_queried() -> None:
    queried = {name for q in queries() for name in METRIC_NAME.findall(q["query"])}
    assert queried == {m.name for m in METRICS}


def test_every_dimension_queried_is_one_warden_sends() -> None:
    for content in queries():
        used = set(DIMENSION.findall(content["query"]))
        table = content["query"].split("\n")[0]
        allowed = set(METRIC_DIMENSIONS) if table == "customMetrics" else set(LOG_DIMENSIONS)
        assert used and used <= allowed, f"{content['title']}: {sorted(used - allowed)}"
    # The needs-human list filters on outcomes the audit log has.
    (listed,) = [OUTCOMES.findall(q["query"]) for q in queries() if OUTCOMES.search(q["query"])]
    assert {v.strip().strip('"') for v in listed[0].split(",")} <= {str(o) for o in Outcome}


def test_the_bicep_deploys_the_workbook_linked_to_application_insights() -> None:
    bicep = (INFRA / "app" / "warden.bicep").read_text(encoding="utf-8")
    block = bicep[bicep.index("'Microsoft.Insights/workbooks@") :]
    block = block[: block.index("\n}\n")]
    assert "loadTextContent('../workbook.json')" in block
    assert "sourceId: appInsights.id" in block
    # The workbook's placeholder for its component is replaced by the deployed one.
    doc = json.loads(WORKBOOK.read_text(encoding="utf-8"))
    assert doc["fallbackResourceIds"] == ["{component-id}"] and "'{component-id}', appInsights.id" in block
