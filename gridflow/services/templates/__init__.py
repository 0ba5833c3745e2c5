"""Config file templates for the local services, with ``${name}`` placeholders."""

from __future__ import annotations

from pathlib import Path
from string import Template

HERE = Path(__file__).parent


def render(name: str, values: dict[str, str]) -> str:
    """The template ``name`` with every ``${key}`` replaced; a missing key is a programming error."""
    return Template((HERE / name).read_text()).substitute(values)
