"""gridflow streams: the stream processors' pure core (no faust, Kafka or ClickHouse imports).

Modules, each holding one concept:

- `streams.classify` — classification rules as data: `classify(message, taxonomy, policy)`.
- `streams.escalation` — the state machine `step(state, event) -> (state, outputs)` (`Engine`): the rules.
- `streams.working` — one step's working copy of the state and the mechanics the rules share.
- `streams.state` — `PartitionState`, the immutable per-key state pieces, JSON codecs.
- `streams.rulebook` — escalation rule ids and the disposition table.
- `streams.correlate` — merge, repeat and cluster windows over the grid and township indexes.
- `streams.routing` — level by severity, handling unit, SLA deadlines, compatible categories.
- `streams.kpis` — the Fengqiao KPIs from final incidents and transitions.
- `streams.outputs` — `ClusterSignal`, `DeadLetterRequest`, `SourceRef`.
- `streams.sequencer` — one deterministic event order per partition across the intake topics.
- `streams.timers`, `streams.dedup`, `streams.pmap`, `streams.fastmodel` — the machinery under them.

Typical use (the faust shell does this per partition)::

    from streams import Engine
    engine = Engine.bundled()
    state = engine.initial_state()
    state, outputs = engine.step(state, message)
"""

from streams.classify import Classification, classify
from streams.escalation import Engine, StreamSettings, event_time, step
from streams.kpis import FengqiaoKpis, fengqiao_kpis
from streams.outputs import ClusterSignal, DeadLetterRequest, ErrorClass, Output, SourceRef
from streams.state import PartitionState, StateChanges

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
