"""Checks of output paths, made before a command starts any work.

A command that will write a file or fill a folder at the end checks first that it can: the place exists, is
of the right kind and accepts a new file. A bad path then costs one line and no work, instead of a traceback
after a whole pipeline run. The checks create nothing that outlives them: no folder is made, and the probe
file that proves a folder writable is removed at once (permission bits alone do not tell, for root or on
/proc).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from infra.errors import ConfigError


def _accepts_files(option: str, folder: Path, path: Path) -> None:
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".gridflow-probe-")
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ConfigError(f"{option} {str(path)!r}: cannot write in {str(folder)!r} ({reason})") from None
    os.close(fd)
    os.unlink(probe)


def output_file(option: str, path: Path) -> Path:
    """``path`` as given, once a file can be written there: its folder exists and takes new files."""
    if path.is_dir():
        raise ConfigError(f"{option} {str(path)!r}: is a folder; expected a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(
            f"{option} {str(path)!r}: folder {str(folder)!r} does not exist; expected an existing folder"
        )
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{option} {str(path)!r}: the file exists and is not writable")
    _accepts_files(option, folder, path)
    return path


def output_folder(option: str, path: Path) -> Path:
    """``path`` as given, once files can be written in it: an existing folder, or a new one in an existing
    folder (created later by the command itself)."""
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{option} {str(path)!r}: is a file; expected a folder")
        _accepts_files(option, path, path)
        return path
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(
            f"{option} {str(path)!r}: folder {str(parent)!r} does not exist; expected an existing folder"
        )
    _accepts_files(option, parent, path)
    return path
