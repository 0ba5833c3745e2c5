"""County-level clustering: the keyed stage after the partition stage.

The partition stage sees one township at a time (intake is keyed by township), so it can say "five property
disputes in 解放街道 within the hour" (a `ClusterSignal`) but not "the same thing is flaring up in several
townships of 临河区". Signals are therefore re-keyed by county onto the ``cluster_signals`` topic, where this
stage collects them: when ``min_townships`` different townships of one county signal the same category within
the cluster window, it raises one `CountyAlert` (rule ``K-CLU-001``), at most once per window.

Signals come from every upstream partition, in whatever interleaving the consumer sees. To decide the same
whatever that interleaving, the stage holds signals until the *minimum* watermark over all upstream
partitions has passed them (each upstream partition broadcasts its frontier as a `Watermark`), then takes
them in ``(time, township, category)`` order. Pure: no Kafka or faust; the faust shell checkpoints it. The
records (`ClusterSignal`, `Watermark`, `CountyAlert`) are wire contracts of `schemas.stages`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from schemas.stages import ClusterSignal, CountyAlert, Watermark, parse_signal_record

RULE_ID: Final = "K-CLU-001"

__all__ = ["RULE_ID", "CountyAlert", "CountyStage", "Watermark", "parse"]


def parse(raw: bytes) -> ClusterSignal | Watermark:
    """A record of the cluster_signals topic: a township's signal or an upstream watermark."""
    return parse_signal_record(raw)


@dataclass
class CountyStage:
    """One cluster_signals partition's county clustering state."""

    upstream: int
    window: timedelta
    min_townships: int  # policy.county_cluster_townships
    marks: dict[int, datetime] = field(default_factory=dict)
    pending: list[tuple[datetime, str, str, str]] = field(
        default_factory=list
    )  # heap: at, township, category, json
    recent: dict[tuple[str, str], list[ClusterSignal]] = field(default_factory=dict)
    alerted: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def offer(self, record: ClusterSignal | Watermark) -> list[CountyAlert]:
        if isinstance(record, Watermark):
            known = self.marks.get(record.source_partition)
            if known is None or record.at > known:
                self.marks[record.source_partition] = record.at
            return self._release()
        heapq.heappush(
            self.pending, (record.at, record.township_code, record.category, record.to_json().decode())
        )
        return self._release()

    def watermark(self) -> datetime | None:
        return min(self.marks.values()) if len(self.marks) >= self.upstream else None

    def _release(self) -> list[CountyAlert]:
        mark = self.watermark()
        alerts: list[CountyAlert] = []
        while mark is not None and self.pending and self.pending[0][0] < mark:
            signal = ClusterSignal.from_json(heapq.heappop(self.pending)[3])
            alert = self._apply(signal)
            if alert is not None:
                alerts.append(alert)
        if mark is not None:
            self._forget(mark - self.window)
        return alerts

    def _forget(self, before: datetime) -> None:
        # Signals and alert times older than a window can no longer matter: keep the state bounded.
        for key in [k for k, signals in self.recent.items() if signals[-1].at < before]:
            del self.recent[key]
        for key in [k for k, at in self.alerted.items() if at < before]:
            del self.alerted[key]

    def _apply(self, signal: ClusterSignal) -> CountyAlert | None:
        key = (signal.county_code, signal.category)
        since = signal.at - self.window
        kept = [s for s in self.recent.get(key, []) if s.at >= since and s.signal_id != signal.signal_id]
        kept.append(signal)
        self.recent[key] = kept
        townships = sorted({s.township_code for s in kept})
        last = self.alerted.get(key)
        if len(townships) < self.min_townships or (last is not None and signal.at - last < self.window):
            return None
        self.alerted[key] = signal.at
        return CountyAlert(
            status=signal.status,
            alert_id=CountyAlert.id_for(key[0], key[1], signal.at),
            county_code=signal.county_code,
            category=signal.category,
            townships=tuple(townships),
            signal_ids=tuple(s.signal_id for s in kept),
            window_start=min(s.at for s in kept),
            at=signal.at,
            rule_id=RULE_ID,
            policy_version=signal.policy_version,
        )

    # ---- checkpoints ---------------------------------------------------------------------------------------

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "marks": {str(p): at.isoformat() for p, at in self.marks.items()},
            "pending": [[at.isoformat(), t, c, raw] for at, t, c, raw in sorted(self.pending)],
            "recent": [
                [k[0], k[1], [s.to_json().decode() for s in v]] for k, v in sorted(self.recent.items())
            ],
            "alerted": [[k[0], k[1], at.isoformat()] for k, at in sorted(self.alerted.items())],
        }

    def restore(self, obj: dict[str, Any]) -> None:
        self.marks = {int(p): datetime.fromisoformat(at) for p, at in obj["marks"].items()}
        self.pending = [(datetime.fromisoformat(at), t, c, raw) for at, t, c, raw in obj["pending"]]
        heapq.heapify(self.pending)
        self.recent = {(c, k): [ClusterSignal.from_json(s) for s in v] for c, k, v in obj["recent"]}
        self.alerted = {(c, k): datetime.fromisoformat(at) for c, k, at in obj["alerted"]}
