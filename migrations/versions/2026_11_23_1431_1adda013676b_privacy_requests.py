"""Privacy requests: the erase link sent with a subject access report (hash only).

Revision ID: 1adda013676b
Revises: 3f0d6702336f
Create Date: 2026-11-23 14:31:32.066288
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import events.db

revision: str = "1adda013676b"
down_revision: str | Sequence[str] | None = "3f0d6702336f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_privacy_requests_token_hash")),
    )
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_requests_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_requests_email"))

    op.drop_table("privacy_requests")
