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
from ..services.timekeeping import today as local_today
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
    damaged, and a schema exactly as the migrations create it: no trigger, index or view
    added, changed or dropped); the restore is all or nothing."""
    url = _database_url()
    try:
        backups.check_matches(url, file)
    except backups.BackupError as exc:
        raise fail(f"Từ chối khôi phục (restore refused): {exc}") from None
    warning = f"This replaces everything in {_shown(url)} with {file}."
    if not yes:
        if not sys.stdin.isatty():
            raise fail(f"{warning} Run again with --yes to confirm.")
        click.confirm(f"{warning} Continue?", abort=True)
    _release_connections()
    try:
        result = backups.restore(url, file)
    except backups.BackupError as exc:
        raise fail(f"Không khôi phục được (restore failed): {exc}") from None
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


def _at_least_one_day(_ctx: click.Context, _param: click.Parameter, days: int) -> int:
    if days < 1:
        raise click.BadParameter(
            f"số ngày phải từ 1 trở lên, không phải {days}: --older-than 0 sẽ xóa mọi bình luận gửi trước hôm nay "
            f"(DAYS must be 1 or more, not {days}: 0 would delete every comment submitted before today)."
        )
    return days


@click.command("purge-comments")
@click.option("--older-than", "days", required=True, type=int, callback=_at_least_one_day, metavar="DAYS",
              help="Delete comments submitted more than DAYS days ago (1 or more).")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.option("--yes", is_flag=True, help="Delete without asking first (for cron).")
@with_appcontext
def purge_comments_command(days: int, dry_run: bool, yes: bool) -> None:
    """Delete old comments (retention). Responses and answers stay: the numbers do not change.

    Without --yes it says how many comments it would delete and asks first; when nobody
    answers (as under cron, with no input) it deletes nothing."""
    day = local_today()  # one cutoff for the count, the question and the deletion
    if dry_run or not yes:
        result = backups.purge_comments(days, actor="cli", dry_run=True, today=day)
        when = result.cutoff.isoformat()
        if dry_run:
            click.echo(f"Would delete {result.count} comment(s) submitted before {when} (dry run: nothing changed).")
            return
        if result.count == 0:
            click.echo(f"No comments submitted before {when}: nothing to delete.")
            return
        click.echo(f"This deletes {result.count} comment(s) submitted before {when} from {_shown(_database_url())}; "
                   "responses and answers stay.")
        try:
            confirmed = click.confirm(f"Xóa vĩnh viễn {result.count} bình luận này? "
                                      "(Delete them for good?)", default=False)
        except click.Abort:  # no answer: the input ended (cron, /dev/null)
            confirmed = False
        if not confirmed:
            raise fail("Không xóa bình luận nào. Chạy lại và trả lời 'y', hoặc thêm --yes khi chạy theo lịch (cron) "
                       "(nothing was deleted; answer 'y', or add --yes when it runs unattended).")
    result = backups.purge_comments(days, actor="cli", today=day)
    click.echo(f"Deleted {result.count} comment(s) submitted before {result.cutoff.isoformat()}."
               + (f" Cleared the words of {result.cases} complaint(s) or request(s) answered before then "
                  "(dates, status and ratings stay)." if result.cases else ""))


COMMANDS: list[click.Command] = [backup_command, restore_command, purge_comments_command]
