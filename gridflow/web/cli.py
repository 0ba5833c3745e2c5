"""``gridflow web [--host H] [--port P]``: the command centre's web page, CAP ATOM feed and Open311 API."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from infra.errors import ConfigError


def web(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
) -> None:
    """Serve the live command-centre page (city and counties), the CAP feed and Open311 GeoReport v2."""
    import uvicorn

    from gridflow.web.app import WebConfig, create_app
    from infra.settings import KafkaSettings, PrivacySettings, load

    if not 0 < port < 65536:
        raise ConfigError(f"--port {port}: expected a port number 1-65535")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise ConfigError(f"--host {host} --port {port}: cannot listen there ({exc.strerror})") from None
    kafka = load(KafkaSettings)
    # Citizens' contact refs under the pipeline's personal-data key, so one person links across restarts.
    contact_key = load(PrivacySettings).key_bytes()
    app = create_app(
        WebConfig(kafka.servers, kafka.topic_prefix, kafka.client_options()), contact_key=contact_key
    )
    typer.echo(f"gridflow web: http://{host}:{port}/ (city) · http://{host}:{port}/county/150802 (a county)")
    # Open event streams never end by themselves: give them 2 s on shutdown, then close them.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2)


def register(app: typer.Typer) -> None:
    app.command("web")(web)
