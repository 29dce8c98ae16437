"""Every read and write of the catalogue. Flushes, never commits: the entry point commits once."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlmodel import Session

from outreach.audit import services as audit
from outreach.auth.models import StaffUser
from outreach.catalog import rules
from outreach.catalog.models import CatalogImport, CatalogImportRow, CatalogItem
from outreach.db import utcnow
from outreach.patrons.rules import search_key
from outreach.types import ItemStatus, MaterialType

log = logging.getLogger(__name__)

ITEM_FIELDS = ("barcode", "title", "title_kana", "author", "material_type", "subjects", "shelf_location",
               "call_number", "is_lendable")
IMPORT_CHUNK = 1000


@dataclass(frozen=True)
class ItemPage:
    items: Sequence[CatalogItem]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def get_item(session: Session, item_id: int) -> CatalogItem | None:
    return session.get(CatalogItem, item_id)


def get_by_barcode(session: Session, barcode: str) -> CatalogItem | None:
    return session.scalars(select(CatalogItem).where(CatalogItem.barcode == rules.fold(barcode))).first()


def items_by_barcodes(session: Session, barcodes: Iterable[str]) -> dict[str, CatalogItem]:
    """The items with these barcodes (one query per thousand barcodes), keyed by barcode."""
    wanted = list(dict.fromkeys(rules.fold(b) for b in barcodes if b and b.strip()))
    found: dict[str, CatalogItem] = {}
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start:start + 1000]
        for item in session.scalars(select(CatalogItem).where(CatalogItem.barcode.in_(chunk))):
            found[item.barcode] = item
    return found


def barcode_taken(session: Session, barcode: str, exclude_id: int | None = None) -> bool:
    query = select(CatalogItem.id).where(CatalogItem.barcode == rules.fold(barcode))
    if exclude_id is not None:
        query = query.where(CatalogItem.id != exclude_id)
    return session.scalars(query).first() is not None


def search_items(
    session: Session,
    query: str,
    *,
    material_type: MaterialType | None = None,
    available_only: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> ItemPage:
    """Find items by barcode (exact) or by the start of the title, its reading or the author
    (any script or width). Ordered by reading, title, then id."""
    text = query.strip()
    stmt = select(CatalogItem)
    if text:
        key = search_key(text)
        stmt = stmt.where(or_(
            CatalogItem.barcode == rules.fold(text),
            _prefix(CatalogItem.title_key, key),
            _prefix(CatalogItem.title_kana_key, key),
            _prefix(CatalogItem.author_key, key),
        ))
    if material_type is not None:
        stmt = stmt.where(CatalogItem.material_type == material_type)
    if available_only:
        stmt = stmt.where(CatalogItem.status == ItemStatus.AVAILABLE)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(page, 1)
    rows = session.scalars(
        stmt.order_by(CatalogItem.title_kana_key, CatalogItem.title_key, CatalogItem.id)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    return ItemPage(rows, total, page, page_size)


def create_item(session: Session, *, data: Mapping[str, Any], actor: StaffUser) -> CatalogItem:
    """Add an item by hand (the import adds most of them)."""
    values = _clean(data)
    item = CatalogItem(**values, **_keys(values))
    session.add(item)
    session.flush()
    _audit(session, actor, "create", item.id, list(values))
    return item


def update_item(session: Session, item: CatalogItem, *, data: Mapping[str, Any], actor: StaffUser) -> list[str]:
    """Change an item's description; the search keys follow. Returns the changed fields."""
    changed = []
    for key, value in _clean(data).items():
        if getattr(item, key) != value:
            setattr(item, key, value)
            changed.append(key)
    if changed:
        for key, value in _keys(_current(item)).items():
            setattr(item, key, value)
        item.updated_at = utcnow()
        session.flush()
        _audit(session, actor, "update", item.id, changed)
    return changed


def set_status(session: Session, item: CatalogItem, status: ItemStatus, actor: StaffUser) -> None:
    """Mark an item lost or withdrawn (or found again). An item on loan changes only through its loan."""
    if item.status is ItemStatus.ON_LOAN or status is ItemStatus.ON_LOAN:
        from outreach.errors import DomainError

        raise DomainError("catalog.on_loan", "貸出中の資料の状態は、返却・紛失の処理で変わります",
                          "An item on loan changes status through its return or loss")
    if item.status != status:
        item.status = status
        item.updated_at = utcnow()
        _audit(session, actor, "update", item.id, ["status"])


def mark_unsuitable(session: Session, item: CatalogItem, *, unsuitable: bool, reason: str, actor: StaffUser) -> None:
    """The section chief marks an item unsuitable for delivery (or lifts the mark), with a reason."""
    item.is_unsuitable = unsuitable
    item.unsuitable_reason = reason.strip() if unsuitable else ""
    item.unsuitable_by_id = actor.id if unsuitable else None
    item.updated_at = utcnow()
    _audit(session, actor, "update", item.id, ["is_unsuitable", "unsuitable_reason"])


# --------------------------------------------------------------------------------------------------
# import from the main system's CSV


def decode_csv(data: bytes) -> tuple[str, str] | None:
    """The text of an export and its encoding: UTF-8 (with or without BOM), else Shift_JIS (cp932)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def import_csv(session: Session, data: bytes, *, filename: str, actor: StaffUser | None) -> CatalogImport:
    """Add new items and update known ones (by barcode) from a CSV; every row is reported.

    Valid rows are applied, rejected rows are listed with every reason, in one unit of work:
    a broken row never stops the others, and nothing is half-applied. Works in chunks of
    a thousand rows with set-based reads and writes. Status 'on loan' is never overwritten:
    that state belongs to the loans of this system.
    """
    record = CatalogImport(filename=filename[:200], imported_by_id=actor.id if actor else None)
    session.add(record)
    session.flush()
    decoded = decode_csv(data)
    if decoded is None:
        record.problem = "文字コードを判別できません。UTF-8 または Shift_JIS で保存してください"
        return _finish_import(session, record, actor)
    text, record.encoding = decoded
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        record.problem = "ファイルが空です（1行目に列名が必要です）"
        return _finish_import(session, record, actor)
    positions, problems = rules.resolve_header(header)
    if problems:
        record.problem = "; ".join(p.message_ja for p in problems)[:500]
        return _finish_import(session, record, actor)
    seen: dict[str, int] = {}
    chunk: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            chunk.append((reader.line_num, row))
            if len(chunk) >= IMPORT_CHUNK:
                _import_chunk(session, record, positions, chunk, seen)
                chunk = []
    except csv.Error as exc:
        record.problem = f"{reader.line_num}行目でCSVとして読めなくなりました（{exc}）。それより前の行は処理しました"[:500]
    if chunk:
        _import_chunk(session, record, positions, chunk, seen)
    return _finish_import(session, record, actor)


def _finish_import(session: Session, record: CatalogImport, actor: StaffUser | None) -> CatalogImport:
    session.flush()
    audit.record(session, actor_id=actor.id if actor else None, actor_username=actor.username if actor else "system",
                 action="import", entity_type="catalog_import", entity_id=record.id,
                 detail=f"added {record.rows_added}, updated {record.rows_updated}, rejected {record.rows_rejected}")
    log.info("catalogue import %s: %d rows, %d added, %d updated, %d rejected", record.id, record.rows_total,
             record.rows_added, record.rows_updated, record.rows_rejected)
    return record


def _import_chunk(session: Session, record: CatalogImport, positions: Mapping[str, int],
                  chunk: Sequence[tuple[int, list[str]]], seen: dict[str, int]) -> None:
    table = CatalogItem.__table__  # type: ignore[attr-defined]
    parsed: list[tuple[int, rules.ItemValues]] = []
    report: list[dict[str, Any]] = []
    for line, row in chunk:
        raw = {field: (row[index] if index < len(row) else "") for field, index in positions.items()}
        values, problems = rules.parse_row(raw)
        barcode = rules.fold(raw.get("barcode", ""))[:64]
        if values is not None and values.barcode in seen:
            problems = [rules.Problem("barcode", f"資料番号がこのファイルの{seen[values.barcode]}行目と重複しています",
                                      f"The barcode repeats line {seen[values.barcode]} of this file")]
            values = None
        if values is None:
            report.append(_row(record, line, barcode, "rejected", [_problem(p) for p in problems]))
            continue
        seen[values.barcode] = line
        parsed.append((line, values))
    existing = {
        row.barcode: row
        for row in session.execute(select(table).where(table.c.barcode.in_([v.barcode for _l, v in parsed])))
    } if parsed else {}
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for line, values in parsed:
        fields = _values(values)
        old = existing.get(values.barcode)
        if old is None:
            fields["status"] = values.status or ItemStatus.AVAILABLE
            inserts.append({**fields, **_keys(fields), "is_unsuitable": False, "unsuitable_reason": "",
                            "created_at": now, "updated_at": now})
            report.append(_row(record, line, values.barcode, "added", {}))
            continue
        notes = []
        status = old.status
        if values.status is not None and values.status != old.status:
            if old.status == ItemStatus.ON_LOAN:
                notes.append({"field": "status", "ja": "貸出中のため状態は変更していません",
                              "en": "Status kept: the item is on loan here"})
            else:
                status = values.status
        changed = [k for k, v in fields.items() if getattr(old, k) != v] + (["status"] if status != old.status else [])
        if not changed:
            record.rows_unchanged += 1
            if notes:
                report.append(_row(record, line, values.barcode, "unchanged", {"notes": notes}))
            continue
        updates.append({"_id": old.id, **fields, **_keys(fields), "status": status, "updated_at": now})
        report.append(_row(record, line, values.barcode, "updated", {"fields": changed, "notes": notes}))
    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        from sqlalchemy import bindparam

        columns = {k: bindparam(k) for k in updates[0] if k != "_id"}
        session.execute(update(table).where(table.c.id == bindparam("_id")).values(columns),
                        updates, execution_options={"synchronize_session": False})
    if report:
        session.execute(insert(CatalogImportRow.__table__), report)  # type: ignore[attr-defined]
    record.rows_total += len(chunk)
    record.rows_added += len(inserts)
    record.rows_updated += len(updates)
    record.rows_rejected += sum(1 for r in report if r["outcome"] == "rejected")


def _row(record: CatalogImport, line: int, barcode: str, outcome: str, detail: Any) -> dict[str, Any]:
    return {"import_id": record.id, "row_number": line, "barcode": barcode, "outcome": outcome,
            "detail": json.dumps(detail, ensure_ascii=False)}


def _problem(p: rules.Problem) -> dict[str, str]:
    return {"field": p.field, "ja": p.message_ja, "en": p.message_en}


@dataclass(frozen=True)
class ImportRowView:
    row_number: int
    barcode: str
    outcome: str
    problems: list[dict[str, str]]
    fields: list[str]
    notes: list[dict[str, str]]


def get_import(session: Session, import_id: int) -> CatalogImport | None:
    return session.get(CatalogImport, import_id)


def list_imports(session: Session, limit: int = 20) -> Sequence[CatalogImport]:
    return session.scalars(select(CatalogImport).order_by(CatalogImport.id.desc()).limit(limit)).all()


def import_rows(session: Session, record: CatalogImport, *, outcome: str | None = None, page: int = 1,
                page_size: int = 200) -> tuple[list[ImportRowView], int]:
    """The reported rows of an import in file order (rejected, added, updated ...)."""
    stmt = select(CatalogImportRow).where(CatalogImportRow.import_id == record.id)
    if outcome:
        stmt = stmt.where(CatalogImportRow.outcome == outcome)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(CatalogImportRow.row_number, CatalogImportRow.id)
                           .limit(page_size).offset((max(page, 1) - 1) * page_size)).all()
    views = []
    for row in rows:
        detail = json.loads(row.detail or "{}")
        problems = detail if isinstance(detail, list) else []
        info = detail if isinstance(detail, dict) else {}
        views.append(ImportRowView(row.row_number, row.barcode, row.outcome, problems, info.get("fields", []),
                                   info.get("notes", [])))
    return views, total


def iter_import_rows(session: Session, record: CatalogImport) -> Iterator[ImportRowView]:
    """Every reported row, streamed (for the CSV report)."""
    page = 1
    while True:
        rows, _total = import_rows(session, record, page=page, page_size=2000)
        if not rows:
            return
        yield from rows
        page += 1


# --------------------------------------------------------------------------------------------------


def _values(values: rules.ItemValues) -> dict[str, Any]:
    return {"barcode": values.barcode, "title": values.title, "title_kana": values.title_kana, "author": values.author,
            "material_type": values.material_type, "subjects": values.subjects,
            "shelf_location": values.shelf_location, "call_number": values.call_number,
            "is_lendable": values.is_lendable}


def _keys(values: Mapping[str, Any]) -> dict[str, str]:
    return rules.derived_keys(values.get("title", ""), values.get("title_kana", ""), values.get("author", ""),
                              values.get("subjects", ""), values.get("call_number", ""))


def _current(item: CatalogItem) -> dict[str, Any]:
    return {k: getattr(item, k) for k in ITEM_FIELDS}


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ITEM_FIELDS:
        if key in data:
            value = data[key]
            if isinstance(value, str):
                value = rules.fold(value) if key in ("barcode", "call_number") else value.strip()
            if key == "subjects" and isinstance(value, str):
                value = "; ".join(rules.split_subjects(value))
            out[key] = value
    return out


def _prefix(column: Any, key: str) -> Any:
    return (column >= key) & (column < key + "\U0010ffff")


def _audit(session: Session, actor: StaffUser, action: str, entity_id: int | None, fields: Sequence[str] = ()) -> None:
    audit.record(session, actor_id=actor.id, actor_username=actor.username, action=action,
                 entity_type="catalog_item", entity_id=entity_id, fields=fields)
