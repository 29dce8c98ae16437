"""historical figures of fiscal years before the system

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-21
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "historical_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("table_no", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=100), nullable=False),
        sa.Column("registrants", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("books", sa.Integer(), nullable=False),
        sa.Column("audio_visual", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["entered_by_id"], ["staff_user.id"],
                                name=op.f("fk_historical_figure_entered_by_id_staff_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_historical_figure")),
        sa.UniqueConstraint("fiscal_year", "table_no", "row_key",
                            name=op.f("uq_historical_figure_fiscal_year_table_no_row_key")),
    )


def downgrade() -> None:
    op.drop_table("historical_figure")
