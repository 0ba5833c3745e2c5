"""docs/warehouse.md is what the migrations make: regenerating it from a fresh store changes nothing."""

from __future__ import annotations

from sinks.warehouse_doc import DOC, generate


def test_the_warehouse_page_is_current() -> None:
    text = generate()

    assert DOC.read_text(encoding="utf-8") == text, "run: python -m sinks.warehouse_doc"
    for name in ("incidents_latest", "transitions_named", "units", "categories", "overdue", "rules"):
        assert name in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| column")]
    assert len(rows) > 250
    assert [row for row in rows if row.endswith("|  |")] == [], "every column has its meaning"
    assert "| overdue | `UInt8` | 1 when unresolved past the city deadline" in text
    assert "| name_pinyin | `String` | the name in pinyin" in text
