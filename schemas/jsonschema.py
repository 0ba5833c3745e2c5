"""JSON Schema export of every message model, for consumers that do not use Python.

``python -m schemas export`` writes ``schemas/json/<Model>.json`` (committed); ``--check`` only compares and
exits 1 when a committed file is stale, which the unit tests also do. Checks that need the geography or the
taxonomy (known grid, county box, …) cannot be expressed in JSON Schema; they appear as patterns plus a
``description``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from schemas.messages import (
    CameraAlert,
    ClockTick,
    DeadLetter,
    Disposition,
    GridReport,
    Incident,
    IntakeMessage,
    Transition,
)
from schemas.stages import CheckpointRecord, ClusterSignal, CountyAlert, Watermark

JSON_DIR = Path(__file__).resolve().parent / "json"
_ID_BASE = "urn:gridflow:schemas:"

MODELS: tuple[type[BaseModel], ...] = (
    GridReport,
    CameraAlert,
    Disposition,
    ClockTick,
    Incident,
    Transition,
    DeadLetter,
    ClusterSignal,
    Watermark,
    CountyAlert,
    CheckpointRecord,
)


def _document(name: str, schema: dict[str, Any]) -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": _ID_BASE + name, **schema}
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def schema_documents() -> dict[str, str]:
    """File name → JSON text for every message model and the intake union."""
    docs = {f"{m.__name__}.json": _document(m.__name__, m.model_json_schema()) for m in MODELS}
    union = TypeAdapter(IntakeMessage).json_schema()
    union["title"] = "IntakeMessage"
    docs["IntakeMessage.json"] = _document("IntakeMessage", union)
    return docs


def export(out_dir: Path = JSON_DIR) -> list[Path]:
    """Write every schema document into ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_documents().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale(out_dir: Path = JSON_DIR) -> list[str]:
    """Names of schema files in ``out_dir`` that are missing or differ from the models."""
    bad = []
    for name, text in schema_documents().items():
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            bad.append(name)
    return bad
