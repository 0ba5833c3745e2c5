"""docs/warehouse.md is what the migrations make: regenerating it from a fresh store changes nothing."""

from __future__ import annotations

from sinks.warehouse_doc import DOC, generate


def test_the_warehouse_page_is_current() -> None:
    text = generate()

    assert DOC.read_text(encoding="utf-8") == text, "run: python -m sinks.warehouse_doc"
    for name in ("incidents_latest", "transitions_named", "units", "categories", "overdue"):
        assert name in text
