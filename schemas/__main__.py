"""Command line for the schemas package.

python -m schemas export [--out DIR] [--check]   write (or check) schemas/json/<Model>.json
python -m schemas geography                      print unit counts per level and per county
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schemas.enums import Level
from schemas.geography import geography
from schemas.jsonschema import JSON_DIR, export, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m schemas", description=__doc__.splitlines()[0] if __doc__ else None
    )
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("export", help="export JSON Schema files for every message model")
    exp.add_argument("--out", type=Path, default=JSON_DIR, help=f"output directory (default {JSON_DIR})")
    exp.add_argument("--check", action="store_true", help="only check; exit 1 if a file is stale")
    sub.add_parser("geography", help="summarise the geography")
    args = parser.parse_args(argv)

    if args.command == "export":
        if args.check:
            bad = stale(args.out)
            for name in bad:
                print(f"stale: {args.out / name}", file=sys.stderr)
            return 1 if bad else 0
        for path in export(args.out):
            print(path)
        return 0

    geo = geography()
    for level in reversed(Level):
        print(f"{level.name.lower():9} {len(geo.at_level(level)):5}")
    for county in geo.counties():
        grids = sum(1 for g in geo.grids() if g.code.startswith(county.code))
        print(f"{county.code} {county.name:6} weight {county.weight:.3f} grids {grids}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
