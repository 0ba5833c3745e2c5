"""The producers' compression codecs: which ones kafka-python can use here, and the default.

``lz4`` is cheap per record (a gridflow dependency; consumers on aiokafka read it through ``cramjam``);
gzip, always available, is the fallback where lz4 is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from kafka import codec

COMPRESSIONS: Final = ("gzip", "lz4", "zstd", "snappy", "none")


def compression_available(name: str) -> bool:
    """Whether kafka-python can use this codec here (lz4, zstd and snappy need optional libraries)."""
    checks: dict[str, Callable[[], bool]] = {
        "gzip": codec.has_gzip,
        "lz4": codec.has_lz4,
        "zstd": codec.has_zstd,
        "snappy": codec.has_snappy,
        "none": lambda: True,
    }
    return name in checks and checks[name]()


def default_compression() -> str:
    """lz4 where its library is installed (a gridflow dependency), else gzip (always available)."""
    return "lz4" if compression_available("lz4") else "gzip"
