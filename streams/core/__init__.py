"""The stream processors' pure decision core: no faust, Kafka or ClickHouse imports (import-linter checks it).

Modules, each holding one concept:

- `streams.core.classify` — classification rules as data: `classify(message, taxonomy, policy)`.
- `streams.core.escalation` — the state machine `step(state, event) -> (state, outputs)` (`Engine`).
- `streams.core.working` — one step's working copy of the state and the mechanics the rules share; the
  rules hold it, and it calls them back (its `Rules` protocol) only for the timers that need a decision.
- `streams.core.state` — `PartitionState`, its stores and their JSON form; `streams.core.pieces` — the
  immutable values the stores hold.
- `streams.core.rulebook` — escalation rule ids and the disposition table.
- `streams.core.correlate` — merge, repeat and cluster windows over the grid and township indexes.
- `streams.core.routing` — level by severity, handling unit, SLA deadlines, compatible categories.
- `streams.core.kpis` — the Fengqiao KPIs from final incidents and transitions.
- `streams.core.outputs` — `ClusterSignal`, `DeadLetterRequest`, `SourceRef`.
- `streams.core.sequencer` — one deterministic event order per partition across the intake topics.
- `streams.core.runner` — one partition's pipeline fed record by record (offsets, dead letters,
  checkpoints), and `streams.core.chain` — its checkpoint records (full snapshots and deltas).
- `streams.core.county` — the county stage: cluster signals and watermarks in, county alerts out.
- `streams.core.timers`, `streams.core.dedup`, `streams.core.pmap`, `streams.core.fastmodel` — the
  machinery under them.
"""
