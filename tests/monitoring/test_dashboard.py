"""The Grafana dashboard (deploy/grafana/justface.json) is importable as is, and every metric its
panels and the alert rules ask for is in a real /metrics scrape of a node after door scans."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import face_photo

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "justface.json"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\b(justface_[a-z0-9_]+)")
SUFFIXES = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_count", "_sum", "_created"], "gauge": [""]}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"] if isinstance(v.get("query"), dict)]
    return exprs


def rule_expressions() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def exposed_names(text: str) -> set[str]:
    """Every series name the scrape declares (a labelled metric no event has touched yet still has
    its HELP and TYPE lines) or carries samples of."""
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, [""])}
        names |= {sample.name for sample in family.samples}
    return names


def test_the_dashboard_is_importable():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    titles = {p["title"] for p in dashboard["panels"] if p["type"] == "row"}
    assert titles == {
        "Door traffic and latency",
        "Refusals",
        "Liveness",
        "Galleries",
        "Background work",
        "GDPR deadlines",
    }
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"]), panel["title"]
            assert panel["datasource"]["uid"] == "${datasource}"


@pytest.mark.django_db
def test_every_metric_the_dashboard_and_alerts_use_is_scraped(client, world, colin, tablet_a):
    assert tablet_a.scan(face_photo("Colin_Powell", 2)).json()["reason"] == "ok"
    assert tablet_a.pin(colin.member_number, "0000").status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 200
    scraped = exposed_names(response.content.decode())
    wanted = {name for expr in dashboard_expressions() + rule_expressions() for name in METRIC.findall(expr)}
    assert len(wanted) > 20
    assert wanted - scraped == set()
