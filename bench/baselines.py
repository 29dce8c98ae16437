"""The raw floor: the same work as a benchmark, done with no framework (bare driver, bare reportlab
canvas, hand-written SQL). Each function times only the work itself and returns a result dict."""

from __future__ import annotations

import io
import sqlite3
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy.engine import make_url


def _connect(url: str) -> tuple[Any, str, str]:
    """A bare DB-API connection for a SQLAlchemy URL, and its dialect and parameter style."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        conn = sqlite3.connect(u.database or ":memory:", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn, "sqlite", "?"
    import psycopg

    conn = psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False))
    return conn, "postgresql", "%s"


def _sql(text: str, style: str) -> str:
    return text.replace("?", style)


# -------------------------------------------------------------------------------------- run rows

SHIPMENT_COLS = ("run_id", "patron_id", "service", "month", "shipped_on", "due_on", "books_count",
                 "audio_visual_count", "created_at")
LOAN_COLS = ("shipment_id", "patron_id", "item_id", "service", "material_type", "source", "shipped_on", "due_on",
             "status", "created_at")


def _scratch_tables(url: str) -> None:
    """bench_shipment and bench_loan: the same columns, keys and indexes as shipment and loan (no
    foreign keys, so rows can be inserted again beside the real ones)."""
    from sqlalchemy import Column, Index, MetaData, Table, UniqueConstraint, create_engine

    from outreach.loans.models import Loan
    from outreach.shipments.models import Shipment

    md = MetaData()
    for model in (Shipment, Loan):
        source = model.__table__  # type: ignore[attr-defined]
        name = f"bench_{source.name}"
        table = Table(name, md, *[Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                                  for c in source.columns])
        for constraint in source.constraints:
            if isinstance(constraint, UniqueConstraint):
                table.append_constraint(UniqueConstraint(*[c.name for c in constraint.columns],
                                                         name=f"bench_{constraint.name}"))
        for index in source.indexes:
            Index(f"bench_{index.name}", *[table.c[c.name] for c in index.columns], unique=index.unique,
                  **index.dialect_kwargs)
    engine = create_engine(url)
    with engine.begin() as conn:
        md.drop_all(conn)
        md.create_all(conn)
    engine.dispose()


def _drop_scratch(conn: Any) -> None:
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS bench_loan")
    cur.execute("DROP TABLE IF EXISTS bench_shipment")
    conn.commit()


def insert_run_rows(url: str, month: str) -> dict[str, Any]:
    """Insert the run's shipments and loans again, with executemany of the bare driver in one transaction."""
    _scratch_tables(url)
    conn, dialect, p = _connect(url)
    cur = conn.cursor()
    cur.execute(_sql(f"SELECT {', '.join(SHIPMENT_COLS)} FROM shipment WHERE month = ? ORDER BY id", p), (month,))
    shipments = cur.fetchall()
    cur.execute(_sql(f"SELECT {', '.join('l.' + c for c in LOAN_COLS)} FROM loan l JOIN shipment s "
                     "ON s.id = l.shipment_id WHERE s.month = ? ORDER BY l.id", p), (month,))
    loans = cur.fetchall()
    started = time.perf_counter()
    if dialect == "sqlite":
        cur.execute("BEGIN IMMEDIATE")
    cur.executemany(f"INSERT INTO bench_shipment ({', '.join(SHIPMENT_COLS)}) VALUES ({', '.join([p] * len(SHIPMENT_COLS))})",
                    shipments)
    cur.executemany(f"INSERT INTO bench_loan ({', '.join(LOAN_COLS)}) VALUES ({', '.join([p] * len(LOAN_COLS))})", loans)
    conn.commit() if dialect == "postgresql" else cur.execute("COMMIT")
    seconds = time.perf_counter() - started
    _drop_scratch(conn)
    conn.close()
    return {"seconds": seconds, "shipments": len(shipments), "items": len(loans)}


# ------------------------------------------------------------------------------------- documents

LABELS_PER_PAGE = (2, 6)  # 12-up A4


def draw_documents(url: str, month: str) -> dict[str, Any]:
    """Labels, return labels and slips drawn straight onto a reportlab canvas (fonts embedded)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from letters.fonts import FONT_DIR

    pdfmetrics.registerFont(TTFont("BaseGothic", str(FONT_DIR / "BIZUDGothic-Regular.ttf")))
    conn, _dialect, p = _connect(url)
    started = time.perf_counter()
    cur = conn.cursor()
    order = "coalesce(nullif(x.postal_code, ''), pt.postal_code), s.id"
    proxy = ("LEFT JOIN (SELECT patron_id, min(id) AS id FROM patron_proxy WHERE receives_letters "
             "GROUP BY patron_id) lp ON lp.patron_id = pt.id LEFT JOIN patron_proxy x ON x.id = lp.id")
    cur.execute(_sql(f"SELECT s.id, pt.name, pt.postal_code, pt.prefecture || pt.city || pt.town || pt.block, "
                     f"pt.building, x.name, x.postal_code, x.address FROM shipment s JOIN patron pt "
                     f"ON pt.id = s.patron_id {proxy} WHERE s.month = ? ORDER BY {order}", p), (month,))
    addresses = cur.fetchall()
    width, height = A4
    cols, rows = LABELS_PER_PAGE
    cell_w, cell_h = width / cols, height / rows
    sizes = 0
    for kind in ("to", "return"):
        buf = io.BytesIO()
        canvas = Canvas(buf, pagesize=A4)
        for n, (sid, name, postal, line1, building, proxy_name, proxy_postal, proxy_address) in enumerate(addresses):
            if n and n % (cols * rows) == 0:
                canvas.showPage()
            col, row = n % cols, (n // cols) % rows
            x, y = col * cell_w + 8 * mm, height - row * cell_h - 12 * mm
            use_proxy = bool(proxy_postal and proxy_address)
            lines = [f"〒{proxy_postal if use_proxy else postal}", proxy_address if use_proxy else line1,
                     building or "", f"{proxy_name} 様方" if use_proxy else "", f"{name} 様"]
            if kind == "return":
                lines = ["〒662-0914", "兵庫県西宮市川添町15-26", "西宮市立中央図書館 読書振興課 行", f"差出人 {name}",
                         lines[1]]
            canvas.setFont("BaseGothic", 11)
            for i, text in enumerate(line for line in lines if line):
                canvas.drawString(x, y - i * 6 * mm, text)
            canvas.setFont("BaseGothic", 6)
            canvas.drawString(x, y - 30 * mm, f"{month[2:4]}{month[5:7]}-{sid:06d}")
        canvas.save()
        sizes += len(buf.getvalue())
    labels_done = time.perf_counter()
    cur.execute(_sql(f"SELECT s.id, pt.name, s.due_on, c.barcode, c.title, c.material_type, c.call_number "
                     f"FROM shipment s JOIN patron pt ON pt.id = s.patron_id {proxy} JOIN loan l ON l.shipment_id = s.id "
                     f"JOIN catalog_item c ON c.id = l.item_id WHERE s.month = ? ORDER BY {order}, l.id", p), (month,))
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4)
    current = None
    y = 0.0
    for sid, name, due_on, barcode, title, material, call_number in cur:
        if sid != current:
            if current is not None:
                canvas.showPage()
            current = sid
            canvas.setFont("BaseGothic", 16)
            canvas.drawString(20 * mm, height - 25 * mm, "貸出資料一覧")
            canvas.setFont("BaseGothic", 11)
            canvas.drawString(20 * mm, height - 35 * mm, f"{name} 様")
            canvas.drawString(20 * mm, height - 42 * mm, f"返却期限 {due_on}")
            y = height - 55 * mm
        canvas.setFont("BaseGothic", 10)
        canvas.drawString(20 * mm, y, f"{barcode}  {title}  {material}  {call_number}")
        y -= 7 * mm
    canvas.save()
    sizes += len(buf.getvalue())
    done = time.perf_counter()
    conn.close()
    return {"seconds": done - started, "labels_seconds": labels_done - started, "slips_seconds": done - labels_done,
            "bytes": sizes, "labels": len(addresses)}


# --------------------------------------------------------------------------------------- report

def annual_figures(url: str, fiscal_year: int, today: date) -> dict[str, Any]:
    """The annual report's figures with hand-written SQL: registrants at year end and at each month
    end, deliveries, books and audio-visual per service and month, reading by room."""
    conn, dialect, p = _connect(url)
    first, last = date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)
    stock_day = min(last, today)
    month_ends = []
    for i in range(12):
        y, m = (fiscal_year, 4 + i) if i < 9 else (fiscal_year + 1, i - 8)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        month_ends.append(min(nxt - timedelta(days=1), today))
    month_of = "strftime('%Y-%m', shipped_on)" if dialect == "sqlite" else "to_char(shipped_on, 'YYYY-MM')"
    session_month = "strftime('%Y-%m', session_on)" if dialect == "sqlite" else "to_char(session_on, 'YYYY-MM')"
    in_force = "a.valid_from <= d.day AND (a.valid_until IS NULL OR a.valid_until >= d.day) " \
               "AND (a.ended_on IS NULL OR a.ended_on >= d.day)"
    one_day = "SELECT ? AS day" if dialect == "sqlite" else "SELECT CAST(? AS DATE) AS day"
    days = " UNION ALL ".join([one_day] * (len(month_ends) + 1))
    cur = conn.cursor()
    started = time.perf_counter()
    cur.execute(_sql(f"SELECT d.day, a.service, count(DISTINCT a.patron_id) FROM ({days}) d JOIN approval a "
                     f"ON {in_force} GROUP BY d.day, a.service", p), [stock_day.isoformat(), *(d.isoformat() for d in month_ends)]
                if dialect == "sqlite" else [stock_day, *month_ends])
    registrants = cur.fetchall()
    cur.execute(_sql(f"SELECT service, {month_of}, count(*), coalesce(sum(books_count), 0), "
                     f"coalesce(sum(audio_visual_count), 0) FROM shipment WHERE shipped_on BETWEEN ? AND ? "
                     f"GROUP BY service, {month_of}", p), (first, last))
    monthly = cur.fetchall()
    totals: dict[str, list[int]] = {}
    for service, _month, deliveries, books, av in monthly:
        entry = totals.setdefault(service, [0, 0, 0])
        entry[0] += deliveries
        entry[1] += int(books)
        entry[2] += int(av)
    cur.execute(_sql(f"SELECT room_id, {session_month}, count(*), coalesce(sum(reading_minutes), 0) FROM reading_session "
                     "WHERE state = 'held' AND session_on BETWEEN ? AND ? GROUP BY room_id, 2", p), (first, last))
    sessions = cur.fetchall()
    cur.execute(_sql("SELECT r.room_id, count(*) FROM (SELECT DISTINCT patron_id FROM approval a WHERE service = "
                     "'face_to_face' AND a.valid_from <= ? AND (a.valid_until IS NULL OR a.valid_until >= ?) AND "
                     "(a.ended_on IS NULL OR a.ended_on >= ?)) g LEFT JOIN (SELECT patron_id, room_id, row_number() OVER "
                     "(PARTITION BY patron_id ORDER BY received_on DESC, id DESC) AS rn FROM reading_request WHERE "
                     "received_on <= ?) r ON r.patron_id = g.patron_id AND r.rn = 1 GROUP BY r.room_id", p),
                (last, last, last, last))
    rooms = cur.fetchall()
    seconds = time.perf_counter() - started
    conn.close()
    at_end = {service: n for day, service, n in registrants if str(day) == stock_day.isoformat()}
    figures = {s: [at_end.get(s, 0), *totals.get(s, [0, 0, 0])] for s in ("home_delivery", "mail_loan")}
    return {"seconds": seconds, "fiscal_year": fiscal_year, "figures": figures,
            "sessions": sum(n for _r, _m, n, _mins in sessions), "rooms": len(rooms)}
