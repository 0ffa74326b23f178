"""Site notices: the privacy notice and the accessibility statement, as an admin edited them
in the console (no row: the default text shipped with the app).

Revision ID: 9a4d2c6e1b57
Revises: 7c1e0b9d4f21
Create Date: 2026-12-05 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9a4d2c6e1b57"
down_revision: str | Sequence[str] | None = "7c1e0b9d4f21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_notices",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_notices")),
    )


def downgrade() -> None:
    op.drop_table("site_notices")
