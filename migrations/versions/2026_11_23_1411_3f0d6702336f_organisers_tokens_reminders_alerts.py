"""Organisers, registration tokens, reminder offsets, topic alerts.

Organiser accounts, sessions, API tokens, sharing and audit; one row per secret link sent
to a registrant (older links keep working); reminder offsets per event; topic alert
subscriptions; the event an outbox message is about, and the "skipped" outbox status.

Revision ID: 3f0d6702336f
Revises: a5a982e771d9
Create Date: 2026-11-23 14:11:52.982315
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import events.db

revision: str = "3f0d6702336f"
down_revision: str | Sequence[str] | None = "a5a982e771d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "organiser",
                name="organiser_role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisers")),
        sa.UniqueConstraint("email", name=op.f("uq_organisers_email")),
    )
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_started_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organisers.id"],
            name=op.f("fk_api_tokens_organiser_id_organisers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_tokens_organiser_id"), ["organiser_id"], unique=False
        )

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organisers.id"],
            name=op.f("fk_login_sessions_organiser_id_organisers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_sessions_token_hash")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_sessions_organiser_id"), ["organiser_id"], unique=False
        )

    op.create_table(
        "topic_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum(
                "immediate",
                "daily",
                name="alert_frequency",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "active",
                "unsubscribed",
                name="subscription_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("digest_sent_until", events.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["topics.id"],
            name=op.f("fk_topic_subscriptions_topic_id_topics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_subscriptions")),
        sa.UniqueConstraint("topic_id", "email", name="uq_topic_subscriptions_email"),
    )
    with op.batch_alter_table("topic_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_subscriptions_email"), ["email"], unique=False)

    op.create_table(
        "event_shares",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_shares_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organisers.id"],
            name=op.f("fk_event_shares_organiser_id_organisers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "organiser_id", name=op.f("pk_event_shares")),
    )
    with op.batch_alter_table("event_shares", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_shares_organiser_id"), ["organiser_id"], unique=False
        )

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "organiser",
                "api",
                "member",
                "system",
                name="actor_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_audit_entries_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organisers.id"],
            name=op.f("fk_audit_entries_organiser_id_organisers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_audit_entries_registration_id_registrations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_event_at", ["event_id", "at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_entries_organiser_id"), ["organiser_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_entries_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "registration_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "manage",
                "join",
                "calendar",
                name="token_purpose",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", events.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_registration_tokens_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_registration_tokens_token_hash")),
    )
    with op.batch_alter_table("registration_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_tokens_registration_id"), ["registration_id"], unique=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_offsets", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_events_owner_id"), ["owner_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_events_owner_id_organisers"),
            "organisers",
            ["owner_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Existing events get the default reminders: 7 days, 1 day and 1 hour before.
    op.execute(
        sa.text("UPDATE events SET reminder_offsets = :offsets").bindparams(
            sa.bindparam("offsets", [10080, 1440, 60], type_=sa.JSON())
        )
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("reminder_offsets", existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_messages_event_id"), ["event_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_messages_event_id_events"),
            "events",
            ["event_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(op.f("ck_outbox_messages_outbox_status"), type_="check")
        batch_op.create_check_constraint(
            "outbox_status", sa.text("status IN ('pending', 'sent', 'failed', 'skipped')")
        )

    # The links already sent keep working: their hashes move to one row each.
    op.execute(
        sa.text(
            "INSERT INTO registration_tokens (registration_id, purpose, token_hash, created_at) "
            "SELECT id, 'manage', token_hash, updated_at FROM registrations"
        )
    )
    op.execute(
        sa.text(
            "INSERT INTO registration_tokens (registration_id, purpose, token_hash, created_at) "
            "SELECT id, 'join', join_token_hash, updated_at FROM registrations"
        )
    )

    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("access_purged_at", events.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("erased_at", events.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(batch_op.f("uq_registrations_join_token_hash"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_registrations_token_hash"), type_="unique")
        batch_op.drop_column("token_hash")
        batch_op.drop_column("join_token_hash")


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("join_token_hash", sa.VARCHAR(length=64), nullable=True))
        batch_op.add_column(sa.Column("token_hash", sa.VARCHAR(length=64), nullable=True))
        batch_op.drop_column("erased_at")
        batch_op.drop_column("access_purged_at")
    # Each registration keeps its newest link of each kind; one with none gets a dead value.
    op.execute(
        sa.text(
            "UPDATE registrations SET token_hash = COALESCE((SELECT t.token_hash FROM "
            "registration_tokens t WHERE t.registration_id = registrations.id "
            "AND t.purpose = 'manage' ORDER BY t.id DESC LIMIT 1), "
            "'manage-none-' || CAST(id AS VARCHAR(20)))"
        )
    )
    op.execute(
        sa.text(
            "UPDATE registrations SET join_token_hash = COALESCE((SELECT t.token_hash FROM "
            "registration_tokens t WHERE t.registration_id = registrations.id "
            "AND t.purpose = 'join' ORDER BY t.id DESC LIMIT 1), "
            "'join-none-' || CAST(id AS VARCHAR(20)))"
        )
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.alter_column(
            "join_token_hash", existing_type=sa.VARCHAR(length=64), nullable=False
        )
        batch_op.alter_column("token_hash", existing_type=sa.VARCHAR(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_registrations_token_hash"), ["token_hash"])
        batch_op.create_unique_constraint(
            batch_op.f("uq_registrations_join_token_hash"), ["join_token_hash"]
        )

    op.execute(sa.text("UPDATE outbox_messages SET status = 'failed' WHERE status = 'skipped'"))
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_outbox_status"), type_="check")
        batch_op.create_check_constraint(
            "outbox_status", sa.text("status IN ('pending', 'sent', 'failed')")
        )
        batch_op.drop_constraint(
            batch_op.f("fk_outbox_messages_event_id_events"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbox_messages_event_id"))
        batch_op.drop_column("event_id")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_events_owner_id_organisers"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_events_owner_id"))
        batch_op.drop_column("owner_id")
        batch_op.drop_column("reminder_offsets")

    with op.batch_alter_table("registration_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_tokens_registration_id"))

    op.drop_table("registration_tokens")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_registration_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_organiser_id"))
        batch_op.drop_index("ix_audit_entries_event_at")

    op.drop_table("audit_entries")
    with op.batch_alter_table("event_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_shares_organiser_id"))

    op.drop_table("event_shares")
    with op.batch_alter_table("topic_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topic_subscriptions_email"))

    op.drop_table("topic_subscriptions")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_organiser_id"))

    op.drop_table("login_sessions")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_organiser_id"))

    op.drop_table("api_tokens")
    op.drop_table("throttle_counters")
    op.drop_table("organisers")
