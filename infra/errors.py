"""The root of gridflow's exception tree, and the errors of configuration, local services and reachability.

Everything gridflow raises on purpose derives from :class:`GridflowError`, so callers can catch the
project's errors without catching programming mistakes. The message contract's errors (``ContractError``,
``DecodeError``, ...) live in `schemas.errors`; the sinks' in `sinks.errors`::

    GridflowError
     ├─ (contract and sink errors: see schemas.errors, sinks.errors)
     ├─ ConfigError        a bad GRIDFLOW_* value or CLI argument (one line, names value and expectation)
     ├─ ServiceError       a local broker/server could not be fetched, started or stopped
     │   └─ PortInUseError the port it should listen on belongs to someone else
     └─ UnreachableError   a configured Kafka or ClickHouse did not answer in time

The CLI prints ``str(error)`` of any GridflowError as one line and exits 2; nothing else is caught.
"""


class GridflowError(Exception):
    """Base class of every error gridflow raises deliberately."""


class ConfigError(GridflowError):
    """A configuration value or argument is not what was expected."""


class ServiceError(GridflowError):
    """A local service could not be fetched, started or stopped."""


class PortInUseError(ServiceError):
    """The port a local service should listen on is taken by another process."""


class UnreachableError(GridflowError):
    """A configured Kafka or ClickHouse did not answer within the bound."""


__all__ = ["ConfigError", "GridflowError", "PortInUseError", "ServiceError", "UnreachableError"]
