"""The demo's live panel: throughput, lag and open incidents by level, drawn with rich on a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gridflow.demo.rates import Rates, seconds_behind


def render_rates(rates: Rates, phase: str, elapsed: float) -> Any:
    """The live panel: throughput, lag and open incidents by level."""
    from rich.table import Table

    table = Table(title=f"gridflow demo — {phase} · {elapsed:.0f} s", show_header=True)
    table.add_column("")
    table.add_column("total", justify="right")
    table.add_column("per second", justify="right")
    per = rates.per_second
    table.add_row("produced (intake)", f"{rates.produced:,}", f"{per.get('produced', 0):,.0f}")
    table.add_row("processed (workers)", f"{rates.processed:,}", f"{per.get('processed', 0):,.0f}")
    table.add_row("landed (sink)", f"{rates.landed:,}", f"{per.get('landed', 0):,.0f}")
    behind = seconds_behind(rates)
    input_s = f"{behind:.1f} s of input" if behind is not None else ""
    table.add_row("consumer lag workers / sink", f"{rates.stream_lag:,} / {rates.sink_lag:,}", input_s)
    names = {1: "grid", 2: "village", 3: "township", 4: "county", 5: "city"}
    for lv, n in sorted(rates.open_by_level.items()):
        table.add_row(f"open incidents L{lv} {names[lv]}", f"{n:,}", "")
    table.add_row("CAP alerts (county/city)", f"{rates.alerts:,}", "")
    sim = rates.simulated.isoformat(timespec="minutes") if rates.simulated else "—"
    table.add_row("simulated time", sim, "")
    return table


@contextmanager
def live_view(enabled: bool) -> Iterator[Any]:
    from rich.console import Console
    from rich.live import Live

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Live(console=console, auto_refresh=False, transient=False) as live:
        yield live
