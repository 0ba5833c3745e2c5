"""Files the repository carries but a command generates (docs, data, scripts): write, or check current.

A test runs each generator with ``--check``, so a change to what a file is made from cannot land without
the file made again.
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, command: str, *, check: bool) -> int:
    """Write ``text`` to ``path`` (exit status 0), or with ``check`` only compare: 1 when it differs,
    saying which ``command`` makes it again."""
    if check:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is not current: run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0
