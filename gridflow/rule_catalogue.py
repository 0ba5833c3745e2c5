"""The rule catalogue and the policy's parameters as data, for the warehouse's ``rules`` and
``policy_parameters`` tables.

Every decision records the ids of the rules that made it (``transitions.rule_ids``, ``incidents.reasons``,
``body_rule``, ``county_alerts.rule_id``). The meanings live in the decision core (``streams.core``) and in
``schemas/data/policy.toml``; the sink layer may not import the core, so this module (above both) writes
them to ``schemas/data/rule_catalogue.json``, which ``gridflow init`` loads (:mod:`sinks.dimensions`):

    python -m gridflow.rule_catalogue            # rewrites schemas/data/rule_catalogue.json
    python -m gridflow.rule_catalogue --check    # exit 1 if the file is not current

tests/unit/test_rule_catalogue.py runs the check, so a new rule or policy value cannot be left out.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Final

from infra.generated import write_or_check
from schemas._datafile import DATA_DIR
from schemas.enums import Level
from schemas.policy import POLICY_FILE, Policy, load_policy
from streams.core import classify, county, rulebook

CATALOGUE: Final = DATA_DIR / "rule_catalogue.json"
_KEY = re.compile(r"^([a-z0-9_]+)\s*=\s*(.+)$")
_SECTION = re.compile(r"^\[([a-z0-9_]+)\]$")
_UNITS: Final = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


def _levels(levels: tuple[Level, ...]) -> list[str]:
    return [level.name.lower() for level in levels]


def rules(policy: Policy) -> list[dict[str, object]]:
    """Every rule id a decision can record: family, the levels it applies at ([]: any) and meaning."""
    found: list[dict[str, object]] = []

    def add(rule_id: str, family: str, meaning: str, levels: list[str] | None = None) -> None:
        found.append({"rule_id": rule_id, "family": family, "levels": levels or [], "meaning": meaning})

    for rule in (*classify.BASE_RULES, *classify.MODIFIER_RULES):
        add(rule.rule_id, "classification", rule.text)
    for verify in classify.VERIFY_RULES:
        add(verify.rule_id, "classification", verify.text, ["grid"])
    for row in policy.severity_levels:
        notify = f", {' and '.join(_levels(row.notify))} notified" if row.notify else ""
        add(
            row.rule_id,
            "routing",
            f"severity {row.severity}: first handled at {row.level.name.lower()}{notify}",
            [row.level.name.lower()],
        )
    for rule_id, text in rulebook.ESCALATION_RULES.items():
        add(rule_id, "escalation", text)
    for d in rulebook.DISPOSITION_RULES:
        statuses = ", ".join(sorted(s.value for s in d.statuses))
        add(d.rule_id, "disposition", f"{d.action.value} on {statuses}: {d.effect.value}; {d.text}")
    for h in policy.handling_rules:
        scope = ", ".join(h.categories or h.groups) or "any category"
        co = f", with {', '.join(h.co)}" if h.co else ""
        add(h.id, "handling", f"{scope}: led by {h.lead}{co} (多元化解)", _levels(h.levels))
    add(
        county.RULE_ID,
        "county",
        "policy.county_cluster_townships townships of one county signal a cluster of one category within "
        "policy.cluster_window: one county alert",
        ["county"],
    )
    return sorted(found, key=lambda r: str(r["rule_id"]))


def _text(value: object) -> tuple[str, int]:
    """A policy value as written (durations as ``4 hours``), and its length in seconds (0: not a duration)."""
    if isinstance(value, dict) and value and set(value) <= set(_UNITS):
        seconds = sum(int(n) * _UNITS[unit] for unit, n in value.items())
        text = " ".join(f"{n} {unit.removesuffix('s') if n == 1 else unit}" for unit, n in value.items())
        return text, seconds
    if isinstance(value, list):
        return ", ".join(str(v) for v in value), 0
    return str(value), 0


def parameters(path: Path = POLICY_FILE) -> list[dict[str, object]]:
    """Every scalar setting of policy.toml (``section.key``) with its value and the comment above it.

    The tables of rules (``[[severity_levels]]``, ``[[handling_rules]]``) are rules, in :func:`rules`.
    """
    import tomllib

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    found: list[dict[str, object]] = []
    comment: list[str] = []  # the comment block above a key; it describes every key up to a blank line
    section = ""
    after_comment = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            comment = [*comment, line.lstrip("# ")] if after_comment else [line.lstrip("# ")]
            after_comment = True
            continue
        after_comment = False
        if not line:
            comment = []
        elif line.startswith("[["):
            section = "[["
        elif (match := _SECTION.match(line)) is not None:
            section = match.group(1)
        elif (match := _KEY.match(line)) is not None and section != "[[":
            key = match.group(1)
            value = data[section][key] if section else data[key]
            text, seconds = _text(value)
            name = f"{section}.{key}" if section else key
            found.append({"parameter": name, "value": text, "seconds": seconds, "meaning": " ".join(comment)})
    return found


def catalogue() -> dict[str, object]:
    policy = load_policy()
    return {"policy_version": policy.label, "rules": rules(policy), "parameters": parameters()}


def render() -> str:
    return json.dumps(catalogue(), ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str]) -> int:
    return write_or_check(CATALOGUE, render(), "python -m gridflow.rule_catalogue", check="--check" in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
