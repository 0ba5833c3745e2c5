"""Bounded reachability checks for Kafka and ClickHouse, used by `services` and before any real work.

Each answers within its timeout; ``check_*`` raise UnreachableError naming the address and the cause, so a
wrong address fails in seconds with one line rather than hanging in a client's retry loop.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from infra.errors import UnreachableError


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host:
        return address, default_port
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise UnreachableError(f"{address!r} is not host:port") from None


def tcp_check(what: str, address: str, default_port: int, timeout_s: float) -> None:
    """Raise UnreachableError unless a TCP connection to address opens within timeout_s."""
    host, port = _host_port(address, default_port)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except socket.gaierror as exc:
        raise UnreachableError(f"{what} at {host}:{port}: cannot resolve host ({exc.strerror})") from None
    except TimeoutError:
        raise UnreachableError(f"{what} at {host}:{port}: no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise UnreachableError(f"{what} at {host}:{port}: {(exc.strerror or str(exc)).lower()}") from None


def check_kafka(bootstrap: str, timeout_s: float = 5.0, options: dict[str, object] | None = None) -> None:
    """Raise UnreachableError unless a broker in ``bootstrap`` answers a metadata request in time."""
    first = bootstrap.split(",")[0].strip()
    tcp_check("Kafka", first, 9092, timeout_s)
    if not kafka_answers(bootstrap, timeout_s, options):
        raise UnreachableError(
            f"Kafka at {bootstrap}: port open but no metadata answer within {timeout_s:g} s"
        )


def wait_for_kafka(
    bootstrap: str,
    who: str,
    wait_s: float | None = None,
    options: dict[str, object] | None = None,
) -> int:
    """Probe Kafka until it answers, one stderr line per failed attempt; return how many attempts failed.

    A service started before its broker (compose, systemd, a broker restarting) waits for it rather than
    exiting. The pause between attempts doubles from 1 s up to 10 s; ``wait_s`` bounds the total wait
    (None: until the broker answers; 0: one attempt), after which the last UnreachableError is raised.
    """
    started = time.monotonic()
    failures = 0
    while True:
        try:
            check_kafka(bootstrap, 5.0, options)
            if failures:
                print(
                    f"{who}: Kafka at {bootstrap} answers after {failures} failed attempts", file=sys.stderr
                )
            return failures
        except UnreachableError as exc:
            failures += 1
            pause = min(10.0, 2.0 ** (failures - 1))
            if wait_s is not None and time.monotonic() - started + pause > wait_s:
                raise
            print(f"{who}: {exc}; attempt {failures}, retrying in {pause:g} s", file=sys.stderr, flush=True)
            time.sleep(pause)


def kafka_answers(bootstrap: str, timeout_s: float, options: dict[str, object] | None = None) -> bool:
    """Whether the cluster answers a metadata request (what `services up` waits for)."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    ms = int(timeout_s * 1000)
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            request_timeout_ms=max(ms, 1000),
            bootstrap_timeout_ms=max(ms, 1000),
            connections_max_idle_ms=max(ms, 1000) + 1000,
            **(options or {}),
        )
    except (KafkaError, OSError, ValueError):
        return False
    try:
        consumer.topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        consumer.close()


def check_clickhouse(url: str, timeout_s: float = 5.0) -> None:
    """Raise UnreachableError unless the ClickHouse server in ``url`` answers ``SELECT 1`` in time."""
    from clickhouse_driver import Client
    from clickhouse_driver.errors import Error as DriverError
    from clickhouse_driver.errors import NetworkError, ServerException, SocketTimeoutError

    if url.startswith("chdb://"):
        return
    # The driver logs every failed connect with a traceback; the caller reports the failure in one line.
    logging.getLogger("clickhouse_driver.connection").setLevel(logging.CRITICAL)
    if not url.startswith("clickhouse://"):
        raise UnreachableError(
            f"ClickHouse URL {url!r}: expected clickhouse://user:pass@host:port/db or chdb:///path"
        )
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port or 9000}"
    try:
        # The server is probed in ``default``: the URL's database may not exist until `init` creates it.
        client = Client.from_url(urlunsplit(parts._replace(path="/default")))
    except (ValueError, TypeError) as exc:
        raise UnreachableError(f"ClickHouse URL {redact(url)!r}: {exc}") from None
    client.connection.connect_timeout = timeout_s
    client.connection.send_receive_timeout = timeout_s
    not_clickhouse = (
        f"ClickHouse at {host}: no answer in ClickHouse's native protocol within {timeout_s:g} s "
        "(is it a ClickHouse server's TCP port, usually 9000?)"
    )
    try:
        client.execute("SELECT 1")
    except SocketTimeoutError:
        raise UnreachableError(not_clickhouse) from None
    except NetworkError as exc:
        text = (exc.message or "").rsplit(" (", 1)[0].strip() or "network error"
        raise UnreachableError(f"ClickHouse at {host}: {text.lower()}") from None
    except ServerException as exc:
        raise UnreachableError(f"ClickHouse at {host}: {_first_line(exc.message)}") from None
    except (DriverError, EOFError):
        raise UnreachableError(not_clickhouse.replace(f" within {timeout_s:g} s", "")) from None
    except OSError as exc:
        raise UnreachableError(f"ClickHouse at {host}: {exc.strerror or exc}") from None
    finally:
        client.disconnect()


def clickhouse_answers(port: int) -> bool:
    try:
        check_clickhouse(f"clickhouse://default:@127.0.0.1:{port}/default", 1.0)
        return True
    except UnreachableError:
        return False


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url
