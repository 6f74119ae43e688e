"""``flask --app wsgi posters``: a poster PDF for every service point in a unit's subtree.

    flask --app wsgi posters --unit <code-or-path> --out posters.pdf [--size a4|a6]
"""
from __future__ import annotations

from pathlib import Path

import click

from ..extensions import db
from ..services.qr import posters as poster_service
from .qr_helpers import BASE_URL_HELP, public_base_url, unit_by_ref, write_file


@click.command("posters", help="Print a poster PDF for every service point in a unit's subtree.")
@click.option("--unit", "unit_ref", required=True, help="A service point's code, or any unit's path (/vn/qt/p2/).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write.")
@click.option("--size", type=click.Choice(sorted(poster_service.POSTER_SIZES)), default="a4", show_default=True,
              help="a4: wall poster; a6: table tent.")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def posters_command(unit_ref: str, out: Path, size: str, base_url: str | None) -> None:
    base = public_base_url(base_url)
    unit = unit_by_ref(unit_ref)
    try:
        data = poster_service.build_posters_pdf(db.session, unit, base_url=base, size=size)
    except poster_service.PosterError as exc:
        raise click.ClickException(str(exc)) from None
    count = len(poster_service.service_points_under(db.session, unit))
    write_file(out, data)
    click.echo(f"{out}: {count} poster(s), {size.upper()}, for {unit.path} ({base}/s/…)")
