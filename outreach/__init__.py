"""outreach: case management for the outreach services of public libraries."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(testing: bool = False, **overrides: Any) -> Flask:
    """The application factory (used by wsgi.py, the CLI and the tests)."""
    from flask import Flask

    from outreach import models  # noqa: F401  (every table registered on the metadata)
    from outreach.config import INSTANCE_DIR, load_config
    from outreach.db import database
    from outreach.i18n import compile_catalogs
    from outreach.web import init_web

    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=True)
    app.config.from_object(load_config(testing=testing, **overrides))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    compile_catalogs()
    if app.config.get("CONFIGURE_DATABASE", True):
        database.configure(app.config["DATABASE_URL"])
    init_web(app)

    from outreach.admin.routes import bp as admin_bp
    from outreach.auth.routes import bp as auth_bp
    from outreach.catalog.routes import bp as catalog_bp
    from outreach.cli import outreach_group
    from outreach.enrolments.routes import bp as enrolments_bp
    from outreach.errors_web import register_error_handlers
    from outreach.loans.routes import bp as loans_bp
    from outreach.main.routes import bp as main_bp
    from outreach.patrons.routes import bp as patrons_bp
    from outreach.reading.routes import bp as reading_bp
    from outreach.reports.routes import bp as reports_bp
    from outreach.shipments.routes import bp as shipments_bp
    from outreach.system.routes import bp as system_bp

    for bp in (auth_bp, main_bp, patrons_bp, enrolments_bp, reading_bp, reports_bp, system_bp, catalog_bp, loans_bp, shipments_bp, admin_bp):
        app.register_blueprint(bp)
    register_error_handlers(app)
    app.cli.add_command(outreach_group)
    return app
