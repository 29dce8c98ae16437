"""The baseline of the search benchmark: a bare Flask app with one route that runs the same patron
search statements as the application (``outreach.patrons.services.search_statements``: the same keys,
indexes, count limit and page) through SQLAlchemy Core, and returns a plain HTML table. No login, no
templates, no forms, no security headers, no ORM session.

    BENCH_DATABASE_URL=... gunicorn -w 2 bench.bare_app:app
"""

from __future__ import annotations

import html
import os

from flask import Flask, request
from sqlalchemy import create_engine

from outreach.config import Config
from outreach.patrons.services import search_statements

app = Flask(__name__)
_url = os.environ["BENCH_DATABASE_URL"]
engine = create_engine(_url, connect_args={"timeout": 30} if _url.startswith("sqlite") else {})
PAGE_SIZE = Config.PAGE_SIZE  # the same page as the application's


@app.get("/patrons")
def search():  # type: ignore[no-untyped-def]
    count_stmt, rows_stmt, params = search_statements(request.args.get("q", ""), 1, PAGE_SIZE)
    with engine.connect() as conn:
        total = conn.execute(count_stmt, params).scalar()
        rows = conn.execute(rows_stmt, params).all()
    body = "".join(f"<tr><td>{r.card_number}</td><td>{html.escape(r.name)}</td><td>{html.escape(r.name_kana)}</td>"
                   f"<td>{html.escape(r.city + r.town)}</td></tr>" for r in rows)
    return f"<!doctype html><title>search</title><p>{total}</p><table>{body}</table>"
