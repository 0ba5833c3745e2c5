"""``python -m streams worker [--workers N]``: the stream workers without the rest of the gridflow CLI."""

import typer

from infra.cli import run
from streams.cli import register

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True)
register(app)


@app.callback()
def streams() -> None:
    """gridflow stream workers."""


if __name__ == "__main__":
    run(app, None, "streams", "python -m streams")
