"""Invite sequences: the SEQUENCE of the last calendar invite queued about a registration.

A person's high-water mark for an event is the highest over their registrations for it, so
a REQUEST after a cancelled place's CANCEL goes above it (calendar apps ignore an invite
whose SEQUENCE is lower than one they have seen for the UID). Existing rows start at NULL:
their next invite takes the event's own sequence, as before.

Revision ID: 5e9a1c3b7d20
Revises: 1adda013676b
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e9a1c3b7d20"
down_revision: str | Sequence[str] | None = "1adda013676b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_sequence", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("invite_sequence")
