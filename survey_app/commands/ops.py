"""sipas backup, restore, purge-comments: operations on the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.engine import make_url

from ..extensions import db
from ..models import SurveyCode
from ..services import audit
from ..services import backup as backups
from . import fail


def _database_url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _release_connections() -> None:
    """This process holds no connection (and so no lock) while the files are copied."""
    db.session.remove()
    db.engine.dispose()


@click.command("backup")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Backup file to write (SQLite: a database file; PostgreSQL: a pg_dump -Fc archive).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@with_appcontext
def backup_command(output: Path, force: bool) -> None:
    """Back up the database while sipas keeps running.

    SQLite uses SQLite's online backup API; PostgreSQL uses pg_dump -Fc (found on PATH or in
    /usr/lib/postgresql/*/bin). The file is checked before it replaces OUTPUT."""
    if output.exists() and not force:
        raise fail(f"{output} exists: choose another file or add --force to replace it.")
    url = _database_url()
    _release_connections()
    try:
        result = backups.backup(url, output)
    except backups.BackupError as exc:
        raise fail(f"Backup failed: {exc}") from None
    # A copy of the data has left the database: that is on the record (after it, so a backup
    # never waits for a write lock).
    audit.record("cli", "backup", result.path.name, size=result.size)
    db.session.commit()
    click.echo(f"Backed up {_shown(url)} to {result.path} ({result.size:,} bytes).")
    click.echo(backups.SECRET_KEY_REMINDER, err=True)


def _key_fits() -> bool | None:
    """Whether the configured secret key opens the restored codes (None: no codes to try)."""
    from ..services import codes

    sample = list(db.session.scalars(select(SurveyCode).where(SurveyCode.sealed.is_not(None)).limit(5)))
    if not sample:
        return None
    return any(codes.unseal(record) is not None for record in sample)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that everything in the configured database is replaced.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the whole database with a backup made by 'sipas backup'.

    The backup is checked first (SQLite or PostgreSQL as configured, a sipas database, not
    damaged); the restore is all or nothing."""
    url = _database_url()
    try:
        backups.check_matches(url, file)
    except backups.BackupError as exc:
        raise fail(f"Restore refused: {exc}") from None
    warning = f"This replaces everything in {_shown(url)} with {file}."
    if not yes:
        if not sys.stdin.isatty():
            raise fail(f"{warning} Run again with --yes to confirm.")
        click.confirm(f"{warning} Continue?", abort=True)
    _release_connections()
    try:
        result = backups.restore(url, file)
    except backups.BackupError as exc:
        raise fail(f"Restore failed: {exc}") from None
    click.echo(f"Restored {file} into {_shown(url)} (schema version {result.revision}).")
    if result.needs_upgrade:
        click.echo(f"The backup is from an older sipas (schema {result.revision}, current {result.head}): "
                   "run 'sipas init' to upgrade it before serving.", err=True)
    else:
        audit.record("cli", "restore", file.name)
        db.session.commit()
        fits = _key_fits()
        if fits is False:
            click.echo("Warning: the configured secret key does not open the codes in this backup. Set "
                       "SIPAS_SECRET_KEY (or DATA_DIR/secret_key) to the key the backup was made with, or "
                       "printed codes will not be found.", err=True)
    click.echo(backups.SECRET_KEY_REMINDER, err=True)


@click.command("purge-comments")
@click.option("--older-than", "days", required=True, type=click.IntRange(min=0), metavar="DAYS",
              help="Delete comments submitted more than DAYS days ago.")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@with_appcontext
def purge_comments_command(days: int, dry_run: bool) -> None:
    """Delete old comments (retention). Responses and answers stay: the numbers do not change."""
    result = backups.purge_comments(days, actor="cli", dry_run=dry_run)
    when = result.cutoff.isoformat()
    if result.dry_run:
        click.echo(f"Would delete {result.count} comment(s) submitted before {when} (dry run: nothing changed).")
    else:
        click.echo(f"Deleted {result.count} comment(s) submitted before {when}.")


COMMANDS: list[click.Command] = [backup_command, restore_command, purge_comments_command]
