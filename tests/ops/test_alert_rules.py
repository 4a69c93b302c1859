"""deploy/prometheus/netbank-alerts.yml: well-formed, every expression names only metrics
and label values the bank exports, and (with promtool) valid and doing what its tests say."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from netbank.ops import gauges, metrics

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "netbank-alerts.yml"
RULE_TESTS = RULES_DIR / "netbank-alerts.test.yml"

# PromQL's words that are not metric names (those used in the rules, and their kin).
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "by", "without", "and", "or", "unless", "bool",
    "on", "ignoring", "rate", "irate", "increase", "delta", "histogram_quantile",
    "max_over_time", "min_over_time", "absent", "clamp_min", "time",
}  # fmt: skip
LABEL_VALUES = {
    "state": {str(s) for s in gauges.OUTBOX_STATES},
    "outcome": {
        *metrics.LOGIN_PASSWORD_OUTCOMES,
        *metrics.CREDENTIAL_OUTCOMES,
        *metrics.TRANSFER_OUTCOMES,
        *metrics.MAIL_OUTCOMES,
    },
    "kind": {*metrics.CREDENTIAL_KINDS, *metrics.LOCKOUT_KINDS, *metrics.TRANSFER_KINDS},
    "channel": set(metrics.CHANNELS),
    "event": set(metrics.DIRECT_LOGIN_EVENTS),
}


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text("utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _exported_names() -> set[str]:
    names = {gauges.READY}
    for family in metrics.REGISTRY.collect():
        names.update(sample.name for sample in family.samples)
    for family in gauges.DatabaseGauges().collect():
        names.add(family.name)
    return names


def _names_and_matchers(expr: str) -> tuple[set[str], list[tuple[str, str]]]:
    matchers = re.findall(r'([a-z_]+)\s*=~?\s*"([^"]*)"', expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", expr)
    bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", bare)
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", bare)) - PROMQL_WORDS
    return words, matchers


def test_every_rule_is_an_alert_with_a_severity_and_a_summary() -> None:
    rules = _rules()
    assert {r["alert"] for r in rules} >= {
        "NetbankMailUncertain",
        "NetbankAuditCheckpointStale",
        "NetbankNotReady",
        "NetbankLockoutBurst",
        "NetbankCredentialStuffing",
    }
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule
        assert rule["annotations"]["summary"], rule


@pytest.mark.django_db
def test_every_expression_names_only_what_the_bank_exports() -> None:
    exported = _exported_names()
    for rule in _rules():
        names, matchers = _names_and_matchers(rule["expr"])
        assert names, rule["alert"]
        assert names <= exported, (rule["alert"], names - exported)
        for label, value in matchers:
            assert label in LABEL_VALUES, (rule["alert"], label)
            assert value in LABEL_VALUES[label], (rule["alert"], label, value)


def test_the_checker_finds_a_name_the_bank_does_not_export() -> None:
    names, matchers = _names_and_matchers(
        'sum by (check) (increase(netbank_logins_totl{channel="web"}[5m])) > 2 * 300'
    )
    assert names == {"netbank_logins_totl"}
    assert matchers == [("channel", "web")]


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        # CI installs it (.ci/run); elsewhere the parser tests above still run.
        assert not os.environ.get("CI"), "promtool is missing (.ci/run installs prometheus)"
        pytest.skip("promtool is not installed")
    return path


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_runs_the_rules_unit_tests() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", RULE_TESTS.name],
        cwd=RULES_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_the_operations_guide_lists_exactly_the_exported_metrics() -> None:
    guide = (RULES_DIR.parents[1] / "docs" / "operations.md").read_text("utf-8")
    section = guide.split("## Metrics\n", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(netbank_[a-z_]+)`", section))
    families = {gauges.READY}
    for family in metrics.REGISTRY.collect():
        families.add(f"{family.name}_total" if family.type == "counter" else family.name)
    families.update(family.name for family in gauges.DatabaseGauges().collect())
    assert documented == families
