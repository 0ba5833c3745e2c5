"""The secured local broker's material: a local CA and the broker's certificate, and the SCRAM principals.

``gridflow services up --secure`` runs the broker with SASL_SSL (SCRAM-SHA-512) over TLS. Everything it needs
is made here, once, into ``<state>/kafka/secure`` (files readable by their owner only):

- ``ca.pem`` / ``ca.key``: a local CA (openssl); clients trust ``ca.pem`` (``GRIDFLOW_KAFKA_SSL_CAFILE``);
- ``broker.pem``: the broker's key and certificate (for 127.0.0.1 and localhost) signed by the CA, as a PEM
  keystore;
- ``credentials.json``: one random password per principal — ``admin`` (the broker itself and ``gridflow
  init``), ``publisher``, ``worker``, ``sink``, ``command`` (the command centre and the web);
- ``<principal>.env``: the ``GRIDFLOW_KAFKA_*`` lines a process of that principal needs (``set -a; .
  <state>/kafka/secure/sink.env``).

Passwords never appear on a command line: the storage tool gets its ``--add-scram`` arguments from a Java
argument file (``@file``), openssl is given no password at all (the keys are files only the owner reads).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Final

from infra.errors import ServiceError

MECHANISM: Final = "SCRAM-SHA-512"
PRINCIPALS: Final = ("admin", "publisher", "worker", "sink", "command")


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)


class SecureMaterial:
    """The CA, the broker certificate and the principals' credentials of one state directory."""

    def __init__(self, home: Path, port: int) -> None:
        self.dir = home / "secure"
        self.port = port

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def keystore(self) -> Path:
        return self.dir / "broker.pem"

    def ensure(self) -> None:
        """Make whatever is missing (idempotent)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o700)
        if not self.keystore.exists():
            self._certificates()
        creds = self.passwords()
        for principal in PRINCIPALS:
            write_private(self.dir / f"{principal}.env", _env_lines(self.env(principal, creds)))

    def passwords(self) -> dict[str, str]:
        path = self.dir / "credentials.json"
        if path.exists():
            loaded: dict[str, str] = json.loads(path.read_text())
            return loaded
        made = {p: secrets.token_urlsafe(24) for p in PRINCIPALS}
        write_private(path, json.dumps(made, indent=2))
        return made

    def env(self, principal: str, creds: dict[str, str] | None = None) -> dict[str, str]:
        """The GRIDFLOW_KAFKA_* variables of a process connecting as ``principal``."""
        creds = creds or self.passwords()
        return {
            "GRIDFLOW_KAFKA_BOOTSTRAP": f"127.0.0.1:{self.port}",
            "GRIDFLOW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "GRIDFLOW_KAFKA_SASL_MECHANISM": MECHANISM,
            "GRIDFLOW_KAFKA_SASL_USERNAME": principal,
            "GRIDFLOW_KAFKA_SASL_PASSWORD": creds[principal],
            "GRIDFLOW_KAFKA_SSL_CAFILE": str(self.ca),
        }

    def scram_argfile(self, java_args: list[str]) -> Path:
        """A Java argument file holding the storage tool's arguments plus one --add-scram per principal."""
        creds = self.passwords()
        lines = [*java_args]
        for principal in PRINCIPALS:
            lines += ["--add-scram", f"{MECHANISM}=[name={principal},password={creds[principal]}]"]
        path = self.dir / "format.args"
        write_private(path, "\n".join(_quote(line) for line in lines) + "\n")
        return path

    def _certificates(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise ServiceError("openssl not found: install it (Debian: apt-get install openssl) for --secure")
        d = self.dir
        (d / "broker.ext").write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
        )
        steps = [
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "825", "-subj", "/CN=gridflow local CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
             "-subj", "/CN=127.0.0.1"],
            [openssl, "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "broker.crt", "-days", "825", "-extfile", "broker.ext"],
        ]  # fmt: skip
        old = os.umask(0o077)
        try:
            for step in steps:
                result = subprocess.run(step, cwd=d, capture_output=True, text=True, check=False)
                if result.returncode != 0:
                    raise ServiceError(f"openssl {step[1]} failed: {result.stderr.strip()[-500:]}")
        finally:
            os.umask(old)
        pem = (d / "broker.key").read_text() + (d / "broker.crt").read_text() + (d / "ca.pem").read_text()
        write_private(self.keystore, pem)


def _quote(arg: str) -> str:
    # Java argument files: a quoted argument may hold spaces; a backslash escapes.
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _env_lines(env: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in env.items())
