"""sipas apikey: keys for the one-stop-shop software (add, list, revoke)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..services import apikeys
from . import fail


@click.group("apikey")
def apikey_group() -> None:
    """API keys for other software (Authorization: Bearer ...)."""


@apikey_group.command("add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(list(apikeys.SCOPES)),
              help="What the key may do; repeat for several.")
@click.option("--unit", help="Unit code: the key acts on this unit and the units below it "
                             "(required with codes:issue).")
@with_appcontext
def apikey_add(name: str, scopes: tuple[str, ...], unit: str | None) -> None:
    """Create a key and print it once (only its hash is kept)."""
    try:
        key, full_key = apikeys.create(name, scopes, unit=unit, actor="cli")
    except apikeys.ApiKeyError as exc:
        raise fail(str(exc)) from None
    click.echo(full_key)
    click.echo(f"Key {key.prefix} ({key.name}; {key.scopes}"
               f"{'; unit ' + key.unit.code if key.unit else ''}) created. "
               "Copy it now: it is not shown again.", err=True)


@apikey_group.command("list")
@with_appcontext
def apikey_list() -> None:
    """List keys (prefix, name, scopes, unit, created, last used, revoked)."""
    keys = apikeys.all_keys()
    if not keys:
        click.echo("No API keys.", err=True)
        return
    click.echo("prefix\tname\tscopes\tunit\tcreated\tlast_used\trevoked")
    for key in keys:
        click.echo("\t".join([
            key.prefix, key.name, key.scopes, key.unit.code if key.unit else "-",
            _when(key.created_at), _when(key.last_used_at), _when(key.revoked_at),
        ]))


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + "Z" if moment else "-"


@apikey_group.command("revoke")
@click.argument("prefix")
@with_appcontext
def apikey_revoke(prefix: str) -> None:
    """Revoke the key with this prefix (it stops working at once)."""
    try:
        key = apikeys.by_prefix(prefix)
    except apikeys.ApiKeyError as exc:
        raise fail(str(exc)) from None
    if apikeys.revoke(key, actor="cli"):
        click.echo(f"Revoked key {key.prefix} ({key.name}).")
    else:
        click.echo(f"Key {key.prefix} was already revoked; nothing changed.")


COMMANDS: list[click.Command] = [apikey_group]
