"""the day a mail-loan patron was first registered, before the rules took effect (grandfathering)

郵送貸出サービス実施要綱 付則2: patrons served before 2021-04-01 continue even if they do not meet 第2条.
The chief records that day on the application; the rules then apply the transitional clause.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_registered_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("first_registered_on")
