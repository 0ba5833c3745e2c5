"""The decision core and the contracts load without any Kafka, faust or ClickHouse client.

Each check runs in a fresh interpreter in which those packages cannot be imported (``sys.modules[name] =
None`` makes ``import name`` raise ImportError), then imports every module of the packages concerned. The
import-linter contracts in pyproject.toml say the same about the code's import statements; this test holds
for what actually happens at import time (re-exports, package ``__init__`` files, plugins).
"""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ("kafka", "aiokafka", "faust", "mode", "clickhouse_driver", "chdb")

_SCRIPT = """
import importlib, pkgutil, sys
for name in {blocked!r}:
    sys.modules[name] = None
loaded = []
for package in {packages!r}:
    root = importlib.import_module(package)
    loaded.append(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        importlib.import_module(info.name)
        loaded.append(info.name)
for module in {modules!r}:
    importlib.import_module(module)
    loaded.append(module)
print(len(loaded))
"""


def _import_without_clients(packages: tuple[str, ...], modules: tuple[str, ...] = ()) -> int:
    script = _SCRIPT.format(blocked=BLOCKED, packages=packages, modules=modules)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def test_the_decision_core_and_the_contracts_import_without_kafka_faust_or_clickhouse() -> None:
    loaded = _import_without_clients(("streams.core", "schemas"))
    assert loaded >= 30  # every module of both packages, not just their __init__


def test_the_bottom_layer_imports_no_client_until_one_is_used() -> None:
    modules = (
        "infra.settings",
        "infra.errors",
        "infra.cli",
        "infra.placement",
        "infra.topics_admin",
        "infra.probe",
    )
    assert _import_without_clients((), ("infra", *modules)) == len(modules) + 1


def test_the_blocking_works() -> None:
    # The negative control of the two tests above: a module that needs a client fails to import here.
    script = _SCRIPT.format(blocked=BLOCKED, packages=(), modules=("infra.lag",))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "kafka" in result.stderr
