"""The analysis commands of ``sipas``: ``analyze``, ``report`` and ``sample-size``.

The app's command group adds them with :func:`add_commands`; nothing here imports the app.
Bad input ends with a one-line message and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from .cli_analyze import analyze_command
from .cli_report import report_command, sample_size_command

__all__ = ["add_commands", "analyze_command", "report_command", "sample_size_command"]


def add_commands(group: click.Group, *, database_url: Callable[[], str],
                 issuance: bool = True) -> None:
    """Add ``analyze``, ``report`` and ``sample-size`` to ``group``.

    Parameters
    ----------
    group : click.Group
        The ``sipas`` command group.
    database_url : callable returning str
        Gives the configured database URL; called only when ``--db`` is used.
    issuance : bool
        With ``--db``, read code issuance counts for the report's response rates.
    """
    if not callable(database_url):
        raise ValueError("database_url: must be a function that returns the database URL")
    group.add_command(analyze_command(database_url))
    group.add_command(report_command(database_url, issuance=issuance))
    group.add_command(sample_size_command())


def main() -> None:  # pragma: no cover - for ``python -m analysis.cli`` during development
    group = click.Group("sipas-analysis")

    def no_db() -> str:
        raise click.UsageError("--db needs the app; run this through the sipas command")

    add_commands(group, database_url=no_db)
    group(prog_name="python -m analysis.cli")


if __name__ == "__main__":  # pragma: no cover
    main()
