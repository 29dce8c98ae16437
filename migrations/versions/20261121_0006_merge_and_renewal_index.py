"""merge the area branches; index approvals by the approval they renew

The renewal work list asks, for every approval ending soon, whether a later approval renews
it. Without this index that is a scan of the approval table per row: 24 s at 100,000 patrons.

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-11-21
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.create_index("ix_approval_previous_approval_id", ["previous_approval_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_previous_approval_id")
