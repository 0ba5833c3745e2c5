"""Errors of the gridflow shell (configuration, local services, reachability).

They extend the project's one exception tree, rooted at :class:`schemas.errors.GridflowError`::

    GridflowError
     ├─ ConfigError        a bad GRIDFLOW_* value or CLI argument (one line, names value and expectation)
     ├─ ServiceError       a local broker/server could not be fetched, started or stopped
     │   └─ PortInUseError the port it should listen on belongs to someone else
     └─ UnreachableError   a configured Kafka or ClickHouse did not answer in time

The CLI prints ``str(error)`` of any GridflowError as one line and exits 2; nothing else is caught.
"""

from schemas.errors import GridflowError


class ConfigError(GridflowError):
    """A configuration value or argument is not what was expected."""


class ServiceError(GridflowError):
    """A local service could not be fetched, started or stopped."""


class PortInUseError(ServiceError):
    """The port a local service should listen on is taken by another process."""


class UnreachableError(GridflowError):
    """A configured Kafka or ClickHouse did not answer within the bound."""


__all__ = ["ConfigError", "GridflowError", "PortInUseError", "ServiceError", "UnreachableError"]
