"""HTTP error pages (in the UI's language, never a stack trace)."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError


def register_error_handlers(app: Flask) -> None:
    def page(status: int, title: str, message: str):  # type: ignore[no-untyped-def]
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(CSRFError)
    def _csrf(_e: CSRFError):  # type: ignore[no-untyped-def]
        return page(400, _("The form has expired"),
                    _("The form was open too long or was sent from elsewhere. Go back, reload the page and try again."))

    @app.errorhandler(403)
    def _forbidden(_e: Exception):  # type: ignore[no-untyped-def]
        return page(403, _("Not allowed"), _("Your role does not allow this page."))

    @app.errorhandler(404)
    def _not_found(_e: Exception):  # type: ignore[no-untyped-def]
        return page(404, _("Not found"), _("There is no such page or record."))

    @app.errorhandler(405)
    def _method(_e: Exception):  # type: ignore[no-untyped-def]
        return page(405, _("Not allowed"), _("This address does not accept that kind of request."))

    @app.errorhandler(500)
    def _error(_e: Exception):  # type: ignore[no-untyped-def]
        return page(500, _("Something went wrong"), _("Nothing was saved. Please try again or tell an administrator."))
