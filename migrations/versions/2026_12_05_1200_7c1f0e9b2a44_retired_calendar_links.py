"""Retired calendar links: the keyed hash of each private feed link whose registration was
erased, and nothing else, so the feed can answer an empty calendar (issue 13 item 9).

Revision ID: 7c1f0e9b2a44
Revises: 5e9a1c3b7d20
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1f0e9b2a44"
down_revision: str | Sequence[str] | None = "5e9a1c3b7d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retired_calendar_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_retired_calendar_links")),
    )


def downgrade() -> None:
    op.drop_table("retired_calendar_links")
