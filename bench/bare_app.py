"""The baseline of the search benchmark: a bare Flask app with one route that runs the same patron
search (by reading, same keys and indexes, count + the first result page) through SQLAlchemy Core and
returns a plain HTML table. No login, no templates, no forms, no security headers, no ORM.

    BENCH_DATABASE_URL=... gunicorn -w 2 bench.bare_app:app
"""

from __future__ import annotations

import html
import os

from flask import Flask, request
from sqlalchemy import create_engine, func, or_, select

from outreach.config import Config
from outreach.patrons.models import Patron
from outreach.patrons.rules import search_key

app = Flask(__name__)
_url = os.environ["BENCH_DATABASE_URL"]
engine = create_engine(_url, connect_args={"timeout": 30} if _url.startswith("sqlite") else {})
patron = Patron.__table__  # type: ignore[attr-defined]
PAGE_SIZE = Config.PAGE_SIZE  # the same page as the application's
COLUMNS = (patron.c.id, patron.c.card_number, patron.c.name, patron.c.name_kana, patron.c.city, patron.c.town)


def _prefix(column, key):  # type: ignore[no-untyped-def]
    return (column >= key) & (column < key + "\U0010ffff")


@app.get("/patrons")
def search():  # type: ignore[no-untyped-def]
    key = search_key(request.args.get("q", ""))
    # A reading is searched the way the application does: family-name or given-name reading.
    where = or_(_prefix(patron.c.kana_key, key), _prefix(patron.c.given_kana_key, key))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(patron).where(where)).scalar()
        rows = conn.execute(select(*COLUMNS).where(where).order_by(patron.c.kana_key, patron.c.id).limit(PAGE_SIZE)).all()
    body = "".join(f"<tr><td>{r.card_number}</td><td>{html.escape(r.name)}</td><td>{html.escape(r.name_kana)}</td>"
                   f"<td>{html.escape(r.city + r.town)}</td></tr>" for r in rows)
    return f"<!doctype html><title>search</title><p>{total}</p><table>{body}</table>"
