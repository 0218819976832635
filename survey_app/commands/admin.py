"""sipas unit, procedure, user: the catalogue and accounts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..models import Procedure, Role, UnitKind, User
from ..services import catalog, successions, users
from ..services import unit_import as unit_import_service
from . import fail


@click.group("unit")
def unit_group() -> None:
    """Units: the department, its sections, their counters."""


@unit_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="Code of the unit above this one.")
@click.option("--kind", type=click.Choice([k.value for k in UnitKind]),
              help="Default: department at the top, section below it, counter below a section.")
@with_appcontext
def unit_add(code: str, name: str, parent: str | None, kind: str | None) -> None:
    """Add a unit."""
    try:
        unit = catalog.add_unit(code, name, parent=parent, kind=kind, actor="cli")
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    click.echo(f"Added unit {unit.code} ({unit.kind}): {unit.name}")


@unit_group.command("list")
@with_appcontext
def unit_list() -> None:
    """List units as a tree (a merged unit with the unit that carries on its work)."""
    merged = {m.code: (successor, m.effective_on) for successor, found in successions.merged_into().items()
              for m in found}
    for unit, depth in catalog.units_in_order():
        state = "" if unit.active else "\t(inactive)"
        if unit.code in merged:
            successor, day = merged[unit.code]
            state += f"\t→ {successor} từ {day:%d/%m/%Y}"
        click.echo(f"{'  ' * depth}{unit.code}\t{unit.name}\t{unit.kind}{state}")


@unit_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def unit_import(file: Path) -> None:
    """Nhập đơn vị từ CSV: cột code, name, kind, parent (import the province's units).

    kind: province, department, centre, commune, section, counter (or tỉnh, sở, trung tâm, xã,
    phường, phòng, quầy). All or nothing; an existing code is updated."""
    try:
        result = unit_import_service.import_units(file.read_bytes(), actor="cli")
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    click.echo(f"Đã nhập {file.name}: thêm {result.added}, cập nhật {result.updated} đơn vị.")


@unit_group.command("merge")
@click.argument("predecessors", nargs=-1, required=True)
@click.option("--into", "successor", required=True, help="Code of the unit that carries on their work.")
@click.option("--on", "effective_on", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day the successor took over (YYYY-MM-DD), e.g. 2025-07-01.")
@click.option("--note", default="", help="Why: the decision that merged or renamed them.")
@with_appcontext
def unit_merge(predecessors: tuple[str, ...], successor: str, effective_on, note: str) -> None:
    """Ghi nhận sáp nhập hoặc đổi tên: PREDECESSORS thôi hoạt động, --into tiếp nhận công việc.

    Their answers stay as stored; the analysis counts them under the successor, so a trend
    runs on across the change."""
    try:
        successions.record(list(predecessors), successor, effective_on=effective_on.date(), actor="cli", note=note)
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    click.echo(f"Đã ghi nhận: {', '.join(predecessors)} sáp nhập vào {successor} từ {effective_on:%d/%m/%Y}.")


@click.group("procedure")
def procedure_group() -> None:
    """Administrative procedures (the national catalogue)."""


@procedure_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--field", help="Field (lĩnh vực) of the procedure.")
@with_appcontext
def procedure_add(code: str, name: str, field: str | None) -> None:
    """Add a procedure by its national code."""
    try:
        procedure = catalog.add_procedure(code, name, field=field, actor="cli")
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    click.echo(f"Added procedure {procedure.code}: {procedure.name}")


@procedure_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def procedure_import(file: Path) -> None:
    """Import a CSV with columns code, name, field (UTF-8, with or without BOM).

    All or nothing: a file with any error imports nothing and lists the errors by line."""
    try:
        result = catalog.import_procedures(file.read_bytes(), actor="cli")
    except catalog.CatalogError as exc:
        raise fail(str(exc)) from None
    click.echo(f"Imported {file.name}: {result.added} added, {result.updated} updated.")


@procedure_group.command("list")
@with_appcontext
def procedure_list() -> None:
    """List procedures."""
    for procedure in db.session.scalars(select(Procedure).order_by(Procedure.code)):
        click.echo(f"{procedure.code}\t{procedure.name}\t{procedure.field or ''}")


@click.group("user")
def user_group() -> None:
    """Staff accounts."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", help="Unit code (required for staff: they manage this unit and those below).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_add(username: str, role: str, unit: str | None, password_stdin: bool) -> None:
    """Add a staff, analyst or admin account."""
    password = _password(password_stdin, "Mật khẩu")
    try:
        user = users.add_user(username, password, role, unit=unit, actor="cli")
    except users.AccountError as exc:
        raise fail(str(exc)) from None
    click.echo(f"Added user {user.username} ({user.role}{', unit ' + unit if unit else ''}).")


@user_group.command("list")
@with_appcontext
def user_list() -> None:
    """Every account: name, role, unit, state (locked, until when)."""
    rows = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    click.echo("tên đăng nhập\tvai trò\tđơn vị\ttrạng thái")
    for user in rows:
        click.echo(f"{user.username}\t{user.role}\t{user.unit.code if user.unit else '—'}\t{users.status(user)}")


@user_group.command("unlock")
@click.argument("username")
@with_appcontext
def user_unlock(username: str) -> None:
    """Lift a lockout after repeated wrong passwords (the password stays)."""
    try:
        user = users.find(username)
    except users.AccountError as exc:
        raise fail(str(exc)) from None
    was = users.status(user)
    users.unlock(user, actor="cli")
    click.echo(f"Đã mở khóa đăng nhập cho {user.username} (trước đó: {was}).")


@user_group.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@with_appcontext
def user_reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password: the lockout is lifted and every session of the account ends."""
    try:
        user = users.find(username)
        password = _password(password_stdin, "Mật khẩu mới")
        users.reset_password(user, password, actor="cli")
    except users.AccountError as exc:
        db.session.rollback()
        raise fail(str(exc)) from None
    click.echo(f"Đã đặt mật khẩu mới cho {user.username}, mở khóa và đăng xuất mọi phiên đang mở.")


def _password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


COMMANDS = [unit_group, procedure_group, user_group]
