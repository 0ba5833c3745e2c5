"""The rule catalogue and the pinyin unit names, the data the warehouse's dimension tables are loaded from."""

from __future__ import annotations

import json
import subprocess
import sys

from gridflow.rule_catalogue import CATALOGUE, render
from schemas.enums import Level
from schemas.geography import geography
from schemas.unit_names import pinyin_names
from streams.core import rulebook


def test_the_catalogue_file_is_current() -> None:
    assert CATALOGUE.read_text(encoding="utf-8") == render(), "run: python -m gridflow.rule_catalogue"


def test_every_rule_id_of_the_core_and_the_policy_is_explained() -> None:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    by_id = {rule["rule_id"]: rule for rule in data["rules"]}

    assert data["policy_version"] == "fengqiao/2026.1"
    assert set(rulebook.ESCALATION_RULES) <= set(by_id)
    assert {rule.rule_id for rule in rulebook.DISPOSITION_RULES} <= set(by_id)
    assert {"C-LVL-005", "C-RPT-001", "C-CAM-201", "H-ANY-002", "K-CLU-001"} <= set(by_id)
    assert all(rule["meaning"] for rule in data["rules"])
    assert by_id["C-LVL-005"] == {
        "rule_id": "C-LVL-005",
        "family": "routing",
        "levels": ["city"],
        "meaning": "severity 5: first handled at city, county notified",
    }
    params = {p["parameter"]: p for p in data["parameters"]}
    assert params["repeat_window"]["seconds"] == 30 * 86_400
    assert params["repeat_threshold"]["meaning"].startswith("矛盾反复")  # shares the block above it
    assert params["default_sla.city"]["value"] == "14 days"


def test_every_unit_has_a_pinyin_name_without_the_library() -> None:
    names = pinyin_names()
    geo = geography()
    codes = {unit.code for level in Level for unit in geo.at_level(level)}

    assert set(names) == codes
    assert all(name.isascii() and name[0].isupper() for name in names.values())
    assert names["150825"] == "Wulatehou Qi"
    assert names["150802001001001"] == "Huayuan Shequ Di 1 Wangge"
    # Run time reads the data file only: pypinyin is needed by scripts/build_unit_pinyin.py alone.
    probe = "import sys, sinks.dimensions, schemas.unit_names; print('pypinyin' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
