"""gridflow producers: the seeded Bayannur simulator, scenarios, Kafka publisher, recording and replay.

Modules, one concept each:

- ``scenario`` (+ ``data/scenarios.toml``): named scenarios and data-quality overlays, as data;
- ``simulator``: :class:`Simulator`, the deterministic, lazily merged stream of :class:`Record` objects;
- ``events``, ``handling``, ``texts`` (+ ``data/texts.toml``), ``sampling``, ``clock``: how reports, alarms,
  dispositions, Chinese descriptions, arrivals and clock ticks are drawn;
- ``overlay``: duplicates, out-of-order, late and malformed messages, labelled;
- ``recording``: JSONL (optionally gzip) recordings, byte-identical per seed, and reading them back;
- ``publisher``, ``pacing``, ``ledger``, ``progress``: sending to Kafka with rate/speed control,
  back-pressure, a delivery ledger and a live progress line;
- ``cli``: ``gridflow simulate`` / ``gridflow replay`` (also ``python -m producers``).

Only the names below are the package's public surface; importing them loads no Kafka client.
"""

from producers.pacing import Pacer
from producers.record import Record, Summary
from producers.recording import RecordingReader, RecordingWriter
from producers.scenario import Overlay, Scenario, overlay, overlay_names, scenario, scenario_names
from producers.simulator import Simulator

__all__ = [
    "Overlay",
    "Pacer",
    "Record",
    "RecordingReader",
    "RecordingWriter",
    "Scenario",
    "Simulator",
    "Summary",
    "overlay",
    "overlay_names",
    "scenario",
    "scenario_names",
]
