"""gridflow's bottom layer: what every package above needs, and nothing of theirs.

- `infra.settings` — the GRIDFLOW_* configuration (Kafka, ClickHouse, local services).
- `infra.errors` — the root of the exception tree (`GridflowError`) and the shell's errors.
- `infra.cli` — running a typer app with gridflow's error handling (one line, exit 2).
- `infra.placement` — where a key lands among a topic's partitions (Kafka's murmur2), memoised once.
- `infra.topics_admin` — creating topics idempotently; `infra.probe` — bounded reachability checks;
  `infra.lag` — consumer-group offsets and lag.

It imports none of ``gridflow``, ``producers``, ``streams``, ``sinks`` or ``schemas`` (checked by
import-linter in ``make check``), and importing it loads no Kafka client: the modules that talk to Kafka
import their client where they use it.
"""
