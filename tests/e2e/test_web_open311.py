"""Open311 through the whole pipeline: a citizen's POST becomes an incident the page shows, decided by a real
stream worker, and the page's acknowledge is decided by the worker too.

Real broker, real `gridflow worker` and `gridflow web` processes on the test's own topics. The test plays
the simulator's part only: it publishes one grid report (which gives the command centre its event-time
clock) and the clock ticks that let the worker decide what came before them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from kafka import KafkaProducer
from test_web_browser import ARGS, CHROMIUM, _serve, _shot, _wait

from infra.topics_admin import ensure_topics
from schemas import encode
from schemas.enums import MessageStatus
from schemas.examples import examples
from schemas.geography import geography
from schemas.ids import incident_id_for
from schemas.messages import ClockTick
from schemas.topics import topics

T0 = examples().report.occurred_at


def _ticks(bootstrap: str, prefix: str, at: datetime, seq: int) -> None:
    """One clock tick at ``at`` on every partition of every intake topic (what the simulator sends)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for spec in topics(prefix).intake:
        for p in range(spec.partitions):
            tick = ClockTick(status=MessageStatus.EXERCISE, source="test", partition=p, at=at, seq=seq)
            producer.send(spec.name, value=encode(tick), partition=p)
    producer.flush()
    producer.close()


@pytest.fixture
def worker(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[None]:
    ensure_topics(kafka_bootstrap, list(topics(topic_prefix)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env |= {
        "GRIDFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "GRIDFLOW_KAFKA_TOPIC_PREFIX": topic_prefix,
        "GRIDFLOW_STATE_DIR": str(tmp_path / "state"),
    }
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridflow.cli", "worker"],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_an_open311_request_becomes_an_incident_on_the_page(
    worker: None, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    report = examples().report  # a grid member's report in 临河区 at T0
    names = topics(topic_prefix)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    township = geography().township_of(report.grid_code)
    producer.send(names.grid_reports.name, key=township.encode(), value=encode(report))
    producer.flush()
    producer.close()
    _ticks(kafka_bootstrap, topic_prefix, T0 + timedelta(minutes=30), 1)

    with _serve(kafka_bootstrap, topic_prefix, tmp_path) as web, sync_playwright() as p:
        _wait(
            lambda: httpx.get(f"{web}/api/state").json()["clock"] is not None,
            120,
            "the worker's first incident",
        )
        grid = geography().unit("150821100001001")  # a citizen in 五原县
        form = {
            "service_code": "labour",
            "lat": f"{grid.centroid.lat:.5f}",
            "long": f"{grid.centroid.lon:.5f}",
            "description": "工地拖欠工资，二十余名工人讨薪",
            "phone": "13912345678",
        }
        posted = httpx.post(f"{web}/open311/v2/requests.json", data=form)
        assert posted.status_code == 201, posted.text
        request_id = posted.json()[0]["service_request_id"]
        incident_id = incident_id_for(UUID(request_id))
        _ticks(kafka_bootstrap, topic_prefix, T0 + timedelta(hours=2), 2)

        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page: Any = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{web}/county/150821")
        page.wait_for_selector(f"#incidents tbody tr[data-id='{incident_id}']", timeout=60_000)
        status = httpx.get(f"{web}/open311/v2/requests/{request_id}.json").json()[0]
        assert status["service_code"] == "labour" and status["status"] == "open"
        assert "13912345678" not in str(status)
        _shot(page, "06-open311-incident")

        # The operator acknowledges it; the worker decides, and the page shows the new status.
        page.click(f"#incidents tbody tr[data-id='{incident_id}']")
        page.wait_for_selector("#detail:not([hidden])")
        page.click("button[data-action='acknowledge']")
        page.wait_for_function("document.querySelector('#action-status').textContent.includes('sent')")
        _ticks(kafka_bootstrap, topic_prefix, T0 + timedelta(hours=4), 3)
        page.wait_for_function(
            "document.querySelector('#detail-status').textContent === 'in_progress'", timeout=60_000
        )
        assert "D-START-001" in httpx.get(f"{web}/api/incidents/{incident_id}").text
        _shot(page, "07-open311-acknowledged")
        page.close()
        browser.close()
