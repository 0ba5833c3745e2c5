"""The faust-streaming runtime around the decision core (`streams.core`).

- `streams.runtime.app` — the faust app: intake topics, the checkpoint table, the escalation agent.
- `streams.runtime.intake` — the readers that take the inputs in batches on faust's assignment.
- `streams.runtime.county_shell` — the county stage: its reader and checkpoint table.
- `streams.runtime.checkpoints` — writing checkpoints and committing offsets.
- `streams.runtime.outbox` — outputs sent as whole producer batches.
- `streams.runtime.faust_internals` — every reliance on faust-streaming internals, in one place.
- `streams.runtime.heap` — garbage-collector settings for a long-running worker.
- `streams.runtime.worker` — running one or more worker processes.
"""
