"""The ``sipas`` subcommands, grouped by topic."""

from __future__ import annotations

import click


def fail(message: str) -> click.ClickException:
    """A one-line error for the terminal (exit status 1, no traceback)."""
    return click.ClickException(message)
