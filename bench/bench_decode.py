"""Decode + validate throughput per intake message type, on one core.

Run: ``python bench/bench_decode.py [--n 20000] [--repeat 5]`` (from the repository root). Not a test.

Builds ``n`` distinct, valid JSON payloads per intake type (deterministic: a seeded generator over the real
geography and taxonomy), then times ``decode(raw, Model)`` and ``decode_intake(raw)`` over them and prints the
best of ``repeat`` runs in events/s, plus ``encode``. The goal is ≥ 100,000 events/s per type. For a ceiling
measured in the same run it also times bare ``orjson.loads`` on the same payloads (parsing without
validation), and prints decode as a share of that ceiling.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
from pydantic import BaseModel

from schemas import (
    AlertType,
    CameraAlert,
    ClockTick,
    Disposition,
    DispositionAction,
    GridReport,
    Level,
    MessageStatus,
    Reporter,
    decode,
    decode_intake,
    encode,
    geography,
    taxonomy,
)

CST = timezone(timedelta(hours=8))
START = datetime(2024, 5, 1, tzinfo=CST)
DESCRIPTIONS = [
    "两户因院墙排水发生争执，网格员到场劝解",
    "村民反映灌溉轮次被占用，双方争吵",
    "小区物业费收费标准引发业主不满",
    "路口发生两车剐蹭，双方对赔偿有分歧",
    "工地拖欠农民工工资，十余人聚集讨薪",
]


def payloads(n: int, seed: int) -> dict[type[BaseModel], list[bytes]]:
    rng = random.Random(seed)
    grids = geography().grids()
    categories = sorted(taxonomy().categories)
    out: dict[type[BaseModel], list[bytes]] = {
        GridReport: [],
        CameraAlert: [],
        Disposition: [],
        ClockTick: [],
    }

    def uid() -> UUID:
        return UUID(int=rng.getrandbits(128), version=4)

    for i in range(n):
        grid = rng.choice(grids)
        box = grid.bbox
        point = {"lon": rng.uniform(box.min_lon, box.max_lon), "lat": rng.uniform(box.min_lat, box.max_lat)}
        t = START + timedelta(seconds=i * 7)
        out[GridReport].append(
            encode(
                GridReport(
                    status=MessageStatus.EXERCISE,
                    event_id=uid(),
                    grid_code=grid.code,
                    occurred_at=t,
                    reported_at=t + timedelta(seconds=rng.randint(0, 3600)),
                    location=grid.centroid.model_validate(point),
                    category=rng.choice(categories),
                    description=rng.choice(DESCRIPTIONS),
                    parties=rng.randint(1, 6),
                    injured=rng.randint(0, 1),
                    reporter=Reporter(id=f"W-{i % 5000:05d}", phone=f"13{rng.randint(0, 999_999_999):09d}"),
                    severity_hint=rng.choice([None, 1, 2, 3]),
                )
            )
        )
        out[CameraAlert].append(
            encode(
                CameraAlert(
                    status=MessageStatus.EXERCISE,
                    event_id=uid(),
                    camera_id=f"CAM-{grid.code}-{rng.randint(0, 99):02d}",
                    grid_code=grid.code,
                    location=grid.centroid.model_validate(point),
                    alert_type=rng.choice(list(AlertType)),
                    confidence=rng.random(),
                    object_count=rng.randint(0, 200),
                    detected_at=t,
                    snapshot_sha256=f"{rng.getrandbits(256):064x}",
                )
            )
        )
        out[Disposition].append(
            encode(
                Disposition(
                    status=MessageStatus.EXERCISE,
                    event_id=uid(),
                    incident_id=uid(),
                    grid_code=grid.code,
                    unit_code=geography().ancestor(grid.code, rng.choice(list(Level))),
                    action=rng.choice(list(DispositionAction)),
                    at=t,
                    note=rng.choice(["", "已受理", "已调解，双方达成协议"]),
                )
            )
        )
        out[ClockTick].append(
            encode(
                ClockTick(status=MessageStatus.EXERCISE, source="simulator-1", partition=i % 6, at=t, seq=i)
            )
        )
    return out


def best_rate(fn: Callable[[bytes], object], data: list[bytes], repeat: int) -> float:
    """Events per CPU-second of this process, best of ``repeat`` passes.

    CPU time rather than wall time: the development boxes are shared 2-core machines where brokers and other
    test runs steal the core, and the goal is stated per core.
    """
    best = 0.0
    for _ in range(repeat):
        start = time.process_time()
        for raw in data:
            fn(raw)
        best = max(best, len(data) / (time.process_time() - start))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20_000, help="payloads per type")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the best is kept")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is stated
    data = payloads(args.n, args.seed)
    goal = 100_000
    print(f"decode + validate, {args.n} distinct payloads per type, best of {args.repeat}, one core")
    columns = ("decode", "intake", "encode", "orjson")
    print(f"{'type':12} {'bytes':>6} " + " ".join(f"{c:>10}" for c in columns) + f" {'share':>6}  goal")
    ok = True
    for model, raws in data.items():
        decoded = [decode(raw, model) for raw in raws]
        size = sum(map(len, raws)) // len(raws)
        rate = best_rate(functools.partial(decode, model=model), raws, args.repeat)
        intake = best_rate(decode_intake, raws, args.repeat)
        enc = best_rate(encode, decoded, args.repeat)  # type: ignore[arg-type]
        ceiling = best_rate(orjson.loads, raws, args.repeat)
        met = min(rate, intake) >= goal
        ok &= met
        print(
            f"{model.__name__:12} {size:6d} {rate:10,.0f} {intake:10,.0f} {enc:10,.0f} {ceiling:10,.0f}"
            f" {rate / ceiling:6.0%}  {'ok' if met else 'BELOW'}"
        )
    print("events/s; 'share' = decode / bare orjson.loads (parse only, no validation)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
