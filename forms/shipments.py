"""Forms of the monthly run: plan a month, commit, adjust, print."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FloatField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp, ValidationError

from forms.common import Length, NoControlCharacters, strip_filter


class RunPlanForm(FlaskForm):
    month = StringField(_l("Month to plan"), validators=[DataRequired(), Regexp(r"^\d{4}-\d{1,2}$",
                                                                       message=_l("Write the month as 2026-12."))],
                        filters=[strip_filter])
    shipping_date = DateField(_l("Shipping date"), validators=[Optional()])


class RunCommitForm(FlaskForm):
    plan_version = HiddenField(validators=[DataRequired(), Regexp(r"^\d+$")])


class PlannedAddItemForm(FlaskForm):
    barcode = StringField(_l("Barcode to add"), validators=[DataRequired(), Length(max=32), NoControlCharacters()],
                          filters=[strip_filter])


class LabelPrintForm(FlaskForm):
    """Label printing options (GET: printing changes nothing)."""

    class Meta:
        csrf = False

    template = SelectField(_l("Label sheet"), default="12up", validate_choice=False)
    start = IntegerField(_l("Start at label number"), default=1,
                         validators=[DataRequired(message=_l("Enter a whole number.")), NumberRange(min=1)])
    offset_x = FloatField(_l("Move right (mm)"), default=0.0,
                          validators=[Optional(), NumberRange(min=-10, max=10, message=_l("Between -10 and 10 mm."))])
    offset_y = FloatField(_l("Move down (mm)"), default=0.0,
                          validators=[Optional(), NumberRange(min=-10, max=10, message=_l("Between -10 and 10 mm."))])
    marking = StringField(_l("Marking on home-delivery labels"), validators=[Optional(), Length(max=20),
                                                                            NoControlCharacters()],
                          filters=[strip_filter])

    # A big month's labels come in files of ``per_file`` shipments (the same shipments as the slips' files).
    part = SelectField(_l("File"), coerce=int, default=1, validate_choice=False)

    def __init__(self, *args: object, templates: dict | None = None, parts: int = 1,  # type: ignore[type-arg]
                 per_file: int = 1, shipments: int = 0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.templates = templates or {}
        self.template.choices = [(name, t.description) for name, t in self.templates.items()]
        self.parts = parts
        self.part.choices = [(n, _l("shipments %(first)d–%(last)d", first=(n - 1) * per_file + 1,
                                    last=min(n * per_file, shipments))) for n in range(1, parts + 1)]

    def validate_part(self, field: SelectField) -> None:
        if not isinstance(field.data, int) or not 1 <= field.data <= self.parts:
            raise ValidationError(_l("There is no file %(part)s: choose 1 to %(n)d.", part=str(field.raw_data[0] if
                                     field.raw_data else field.data)[:10], n=self.parts))

    def validate_template(self, field: SelectField) -> None:
        if field.data not in self.templates:
            raise ValidationError(_l("There is no label sheet “%(name)s”. Choose one of: %(names)s.",
                                     name=str(field.data)[:20], names=", ".join(self.templates)))

    def validate_start(self, field: IntegerField) -> None:
        template = self.templates.get(self.template.data)
        if template is not None and field.data is not None and field.data > template.per_sheet:
            raise ValidationError(_l("A %(name)s sheet has %(n)d labels: start at 1 to %(n)d.",
                                     name=template.name, n=template.per_sheet))
