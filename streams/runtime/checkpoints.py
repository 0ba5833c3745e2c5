"""How the faust shells (escalation and county stage) keep their checkpoints and their input in step.

faust-streaming's own bookkeeping is not enough for that:

- before it commits offsets it flushes its producer buffer, but that flush gives up after 0.1 s without a
  send, so a commit can reach the broker before a table's changelog record does;
- a rebalance that suspends its flow drops records it has already fetched, and its commit then moves past
  a single missing offset;
- its commit moves only over acknowledged offsets, so a record dropped that way (or one a shell skips
  because a rebalance revoked its partition) holds the partition's commit back for good.

So the shells take the offsets out of faust's hands, and the records too: each reads its input through an
`IntakeReader` (`streams.runtime.intake`) from the offset its state takes next, never acknowledges a record
to faust (which then commits nothing on those topics), writes each checkpoint with a send it waits on, and
then commits exactly the offsets that checkpoint resumes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.runtime import faust_internals


async def write_checkpoint(
    app: Any, table: Any, changelog: str, partition: int, key: bytes, blob: bytes | None
) -> Any:
    """Store ``blob`` under ``key`` in ``table`` (None deletes it) and send it to its changelog.

    Returns the pending send: await it before committing what the checkpoint covers. The table's own
    ``send_changelog`` goes through faust's producer buffer, which a commit does not reliably wait for.
    """
    # faust rebuilds the table from the changelog when the partition is assigned.
    faust_internals.table_put(table, key, blob)
    return await app.producer.send(changelog, key, blob, partition, None, None)


async def commit(app: Any, offsets: Mapping[Any, int]) -> None:
    """Commit ``offsets`` (TP -> next offset) for the worker's group, once their checkpoint is written.

    faust's own commit path, minus its ack bookkeeping; it skips partitions no longer assigned and keeps
    faust's commit monitoring informed.
    """
    await faust_internals.commit_offsets(app, offsets)
