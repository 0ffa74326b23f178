"""The outbox worker's lease (claimed_until, claimed_by) and the Message-ID sent.

Revision ID: a5a982e771d9
Revises: c6dd13a8f25c
Create Date: 2026-11-23 13:04:18.231904
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a5a982e771d9"
down_revision: str | Sequence[str] | None = "c6dd13a8f25c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        # server_default: rows queued before this revision get an empty value.
        batch_op.add_column(
            sa.Column("claimed_by", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("message_id", sa.String(length=250), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_column("message_id")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("claimed_until")
