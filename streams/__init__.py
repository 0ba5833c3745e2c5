"""gridflow streams: the stream processors, as a pure decision core and the faust runtime around it.

- `streams.core` — the pure decision core (no faust, Kafka or ClickHouse imports, checked by import-linter):
  classification, correlation, routing, escalation and its state, the KPIs, the per-partition sequencer
  and runner, the county stage's logic and the checkpoint chain.
- `streams.runtime` — the faust-streaming app and worker around it: topics, checkpoint tables, outbox,
  the county stage's agent, and every reliance on faust internals (`streams.runtime.faust_internals`).
- `streams.cli` — ``gridflow worker`` (also ``python -m streams worker``).

The core's main names are re-exported here. Typical use (the faust shell does this per partition)::

    from streams import Engine
    engine = Engine.bundled()
    state = engine.initial_state()
    state, outputs = engine.step(state, message)
"""

from streams.core.classify import Classification, classify
from streams.core.escalation import Engine, StreamSettings, event_time, step
from streams.core.kpis import FengqiaoKpis, fengqiao_kpis
from streams.core.outputs import ClusterSignal, DeadLetterRequest, ErrorClass, Output, SourceRef
from streams.core.state import PartitionState, StateChanges

__all__ = [
    "Classification",
    "ClusterSignal",
    "DeadLetterRequest",
    "Engine",
    "ErrorClass",
    "FengqiaoKpis",
    "Output",
    "PartitionState",
    "SourceRef",
    "StateChanges",
    "StreamSettings",
    "classify",
    "event_time",
    "fengqiao_kpis",
    "step",
]
