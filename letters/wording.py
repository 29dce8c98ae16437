"""Letter wording, kept in TOML files under ``letters/templates/<lang>/`` (editable by librarians).

Each file holds strings with ``string.Template`` placeholders (``${valid_from}``).  Lists of
paragraphs, 記 items, notes and contact lines are arrays of tables; an entry may say
``requires = ["applied_on"]`` (shown only when every named value is non-empty) or
``unless = [...]`` (shown only when every named value is empty).  A ``[service.<service>]`` table
overrides top-level keys for one service (e.g. mail loans are "registered", not "approved").

A library can keep its own wording outside the package: pass ``template_dir`` to the renderers;
a file found there wins over the bundled one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

BUNDLED_DIR = Path(__file__).with_name("templates")


class WordingError(ValueError):
    """A wording template is missing, malformed, or uses a placeholder nobody supplies."""


@lru_cache(maxsize=128)
def _read(path: Path, mtime_ns: int) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise WordingError(f"{path}: {exc}") from exc


def load(
    name: str, service: str | None = None, *, lang: str = "ja", template_dir: Path | None = None
) -> dict[str, Any]:
    """The wording table ``name`` (file ``<name>.toml``) with the service's overrides applied."""
    candidates = []
    if template_dir is not None:
        candidates.append(Path(template_dir) / lang / f"{name}.toml")
    candidates.append(BUNDLED_DIR / lang / f"{name}.toml")
    for path in candidates:
        if path.is_file():
            table = dict(_read(path, path.stat().st_mtime_ns))
            break
    else:
        raise WordingError(f"no wording template {lang}/{name}.toml")
    overrides = table.pop("service", {})
    if service is not None and service in overrides:
        table.update(overrides[service])
    return table


def fill(text: str, values: Mapping[str, object], *, where: str = "") -> str:
    """Substitute ``${name}`` placeholders; an unknown name is an error naming the template."""
    try:
        return Template(text).substitute(values)
    except KeyError as exc:
        raise WordingError(f"unknown placeholder ${{{exc.args[0]}}} in {where or 'wording'}") from exc
    except ValueError as exc:
        raise WordingError(f"bad placeholder in {where or 'wording'}: {exc}") from exc


def applies(entry: Mapping[str, Any], values: Mapping[str, object]) -> bool:
    """Whether a conditional entry (``requires``/``unless``) is shown for these values."""
    if any(not values.get(k) for k in entry.get("requires", ())):
        return False
    if any(values.get(k) for k in entry.get("unless", ())):
        return False
    return True


def entries(
    table: Mapping[str, Any], key: str, values: Mapping[str, object], *, fields: tuple[str, ...] = ("text",)
) -> list[dict[str, Any]]:
    """The applicable entries of array ``key`` with their text fields filled in.

    Plain strings in the array are accepted as ``{"text": ...}``."""
    out = []
    for raw in table.get(key, ()):
        entry = {"text": raw} if isinstance(raw, str) else dict(raw)
        if not applies(entry, values):
            continue
        for f in fields:
            if isinstance(entry.get(f), str):
                entry[f] = fill(entry[f], values, where=f"{key}.{f}")
        out.append(entry)
    return out
