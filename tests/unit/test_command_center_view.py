"""The console view fills the terminal and shows what an operator acts on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rich.console import Console
from web_factories import T0, escalation

from gridflow.demo.command_center import CHROME_ROWS, Desk, render
from schemas.enums import Level
from schemas.geography import geography


def test_the_view_fills_a_45_line_terminal_with_status_severity_township_deadline_and_county() -> None:
    desk = Desk()
    for n in range(46):
        level = Level.CITY if n % 2 else Level.COUNTY
        incident, transition = escalation(
            county="150825", name=f"e{n}", level=level, at=T0 + timedelta(minutes=n)
        )
        desk.on_incident(incident)
        desk.on_transition(transition)
    console = Console(width=200, height=45, record=True)
    console.print(render(desk, 46, Path("cap"), rows=45 - CHROME_ROWS))
    text = console.export_text()
    assert len(text.splitlines()) <= 45
    rows = [line for line in text.splitlines() if "劳动争议" in line]
    assert len(rows) == 45 - CHROME_ROWS  # not 20: as many as the terminal holds
    city_rows = [line for line in rows if "L5" in line]
    assert city_rows and all("乌拉特后旗" in line for line in city_rows)  # the county a city matter came from
    assert all("open" in line and " 4 " in line for line in rows)  # status and severity
    assert "06-24" in text and "due" in text  # the deadline column
    township = geography().unit(incident.township_code).name
    assert all(township in line for line in rows)
