"""The outbox's typed contract: one frozen model per ``MessageKind``, and the handler the
room that sends a kind registers for it.

A model is validated when it is built and again when ``outbox.enqueue`` writes it; the row's
``payload`` is the model's JSON without ``kind`` (the row has its own column). The worker
reads a row back through ``Registry.parse``, a discriminated union on ``kind`` of every
registered model: a payload that no longer fits fails that row for good, with the reason,
and never the batch.

A handler (``MessageHandler``) owns its kinds' rules at send time: ``prepare`` loads what a
whole batch of its rows needs (a few queries, not one per row), decides for each row whether
it still applies (``Skip`` with the reason) and returns the function composing its email.
The worker knows no room: ``events/wiring.py`` hands it the registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Annotated, Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from events.kit.signing import Signer
from events.mail.compose import Outgoing
from events.mail.kinds import MessageKind

# What an address or a payload becomes once the person's data is gone.
REMOVED = "[removed]"


class Message(BaseModel):
    """One message's contents. Subclasses fix ``kind`` with a ``Literal`` default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: MessageKind
    # The Subject line: a format string over the composed values (``title``, ``when``,
    # ``subject``, ``topic``, ``count``); each kind's model sets its own.
    subject_template: ClassVar[str] = ""
    # Fields holding raw secrets (link tokens): on the row until the email is finished
    # with (sent, failed or skipped), then dropped.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def payload(self) -> dict[str, Any]:
        """The row's ``payload``: plain JSON values, without ``kind``."""
        return self.model_dump(mode="json", exclude={"kind"})

    def forget_recipient(self) -> bool:
        """True when the row must keep neither address nor contents once finished with
        (a notice sent to someone whose data was erased)."""
        return False


M = TypeVar("M", bound=Message)


class InvalidMessage(ValueError):
    """A row whose payload does not fit its kind (or whose kind has no handler)."""


def describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'payload'}: {item['msg']}"
        for item in error.errors()
    )


def validated(message: Message) -> Message:
    """``message`` validated again (a model built with ``model_construct`` skips it)."""
    try:
        return type(message).model_validate(dict(message))
    except ValidationError as exc:
        raise InvalidMessage(f"{message.kind}: {describe(exc)}") from exc


@dataclass(frozen=True)
class Queued(Generic[M]):
    """An outbox row as a handler sees it: its message parsed."""

    id: int
    recipient: str
    message: M
    dedupe_key: str
    created_at: dt.datetime

    def outgoing(self, **extra: Any) -> Outgoing:
        """What ``compose`` reads; ``extra`` adds values computed at send time (links)."""
        return Outgoing(
            id=self.id,
            kind=self.message.kind.value,
            recipient=self.recipient,
            payload={**self.message.payload(), **extra},
            dedupe_key=self.dedupe_key,
            created_at=self.created_at,
            subject_template=self.message.subject_template,
        )


@dataclass(frozen=True)
class SendContext:
    base_url: str
    mail_from: str
    signer: Signer
    now: dt.datetime


@dataclass(frozen=True)
class Skip:
    """Not sent, on purpose: the reason is recorded on the row."""

    reason: str


Compose = Callable[[], EmailMessage]
Prepared = Skip | Compose


class MessageHandler(Protocol):
    """A room's send-time rules for its kinds."""

    @property
    def models(self) -> Sequence[type[Message]]: ...

    async def prepare(
        self, session: AsyncSession, items: Sequence[Queued[Any]], context: SendContext
    ) -> Sequence[Prepared]:
        """One entry per item, in order: ``Skip`` or the function composing the email
        (raising ``ComposeError`` for a row that can never become an email)."""
        ...


def _kind_of(model: type[Message]) -> MessageKind:
    default = model.model_fields["kind"].default
    if not isinstance(default, MessageKind):
        raise TypeError(f"{model.__name__} must default kind to its MessageKind")
    return default


class Registry:
    """Every kind's model and handler; ``parse`` is the discriminated union on ``kind``."""

    def __init__(self, handlers: Iterable[MessageHandler]) -> None:
        self._handlers: dict[MessageKind, MessageHandler] = {}
        self._models: dict[MessageKind, type[Message]] = {}
        for handler in handlers:
            for model in handler.models:
                kind = _kind_of(model)
                if kind in self._models:
                    raise ValueError(f"two models for mail kind {kind}")
                self._models[kind] = model
                self._handlers[kind] = handler
        models = tuple(self._models.values())
        union: Any = models[0]
        for model in models[1:]:
            union = union | model
        annotated: Any = Annotated[union, Field(discriminator="kind")]
        self._adapter: TypeAdapter[Message] = TypeAdapter(annotated if len(models) > 1 else union)
        self.secret_fields = frozenset().union(*(m.secret_fields for m in models))

    @property
    def kinds(self) -> frozenset[MessageKind]:
        return frozenset(self._models)

    def model(self, kind: MessageKind) -> type[Message]:
        return self._models[kind]

    def handler(self, kind: MessageKind) -> MessageHandler:
        return self._handlers[kind]

    def parse(self, kind: str, payload: Mapping[str, Any]) -> Message:
        """The row's message, or ``InvalidMessage`` saying what does not fit."""
        if not isinstance(payload, Mapping):
            raise InvalidMessage(f"the {kind!r} message's payload is not an object")
        try:
            return self._adapter.validate_python({**payload, "kind": kind})
        except ValidationError as exc:
            raise InvalidMessage(f"the {kind!r} message does not fit: {describe(exc)}") from exc

    def without_secrets(self, payload: object) -> dict[str, Any]:
        """What a finished row keeps of its payload: everything but raw secrets (any
        registered model's ``secret_fields``, as the row may not parse)."""
        if not isinstance(payload, Mapping):
            return {}
        return {key: value for key, value in payload.items() if key not in self.secret_fields}
