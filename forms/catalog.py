"""Catalogue forms: an item by hand, the CSV import, the chief's unsuitable mark, the status."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, Regexp, ValidationError

from forms.common import Length, NoControlCharacters, Reading, strip_filter
from outreach.labels import choices, label
from outreach.types import ItemStatus, MaterialType

MAX_IMPORT_BYTES = 20 * 1024 * 1024  # larger exports: `outreach catalog import FILE`


def _text(text: object, max_length: int, required: bool = False, extra: list | None = None) -> StringField:
    validators = [DataRequired()] if required else [Optional()]
    return StringField(text, validators=[*validators, Length(max=max_length), NoControlCharacters(), *(extra or [])],
                       filters=[strip_filter])


class CatalogItemEditForm(FlaskForm):
    barcode = _text(_l("Barcode"), 32, required=True,
                    extra=[Regexp(r"^[0-9A-Za-z０-９Ａ-Ｚａ-ｚ\-]+$", message=_l("Use digits, letters and hyphens only."))])
    title = _text(_l("Title"), 300, required=True)
    title_kana = _text(_l("Reading of the title"), 300, extra=[Reading()])
    author = _text(_l("Author"), 200)
    material_type = SelectField(_l("Material type"), choices=choices(MaterialType), default=MaterialType.BOOK.value)
    subjects = _text(_l("Subjects and genres"), 500)
    shelf_location = _text(_l("Shelf location"), 60)
    call_number = _text(_l("Call number"), 60)
    is_lendable = BooleanField(_l("May leave the library"), default=True)

    def item_data(self) -> dict[str, object]:
        data = {name: f.data for name, f in self._fields.items() if name != "csrf_token"}
        data["material_type"] = MaterialType(data["material_type"])
        for key, value in list(data.items()):
            if value is None:
                data[key] = ""
        return data


class CatalogSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing

    q = StringField(_l("Title, reading, author or barcode"), validators=[Optional(), Length(max=100)],
                    filters=[strip_filter])
    material_type = SelectField(_l("Material type"), validators=[Optional()])
    available = BooleanField(_l("Available items only"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.material_type.choices = [("", _l("All types")), *choices(MaterialType)]


class CatalogImportForm(FlaskForm):
    file = FileField(_l("CSV file from the library system"), validators=[FileRequired(message=_l("Choose a CSV file."))])

    def validate_file(self, field: FileField) -> None:
        name = (field.data.filename or "").lower() if field.data else ""
        if not name.endswith((".csv", ".txt")):
            raise ValidationError(_l("The file must be a CSV file (.csv)."))


class ItemUnsuitableForm(FlaskForm):
    is_unsuitable = BooleanField(_l("Unsuitable for delivery and mail loans"))
    # No Optional(): it would stop the chain before validate_reason sees an empty reason.
    reason = TextAreaField(_l("Reason"), validators=[Length(max=300), NoControlCharacters()], filters=[strip_filter])

    def validate_reason(self, field: TextAreaField) -> None:
        if self.is_unsuitable.data and not field.data:
            raise ValidationError(_l("Give the reason the item is unsuitable."))


class ItemStatusForm(FlaskForm):
    status = SelectField(_l("Status"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [(s.value, label(s)) for s in (ItemStatus.AVAILABLE, ItemStatus.LOST, ItemStatus.WITHDRAWN)]
