"""Alert links: ``<id>.<HMAC>`` of the subscription's id and ``created_at``, keyed with the
app secret (``kit.signing.Signer``), one purpose each. Nothing secret is stored; the worker
computes them when sending (``messages.AlertMail``) and the service checks them
(``subscription_by_token``)."""

from __future__ import annotations

import base64
from typing import Literal

from events.alerts.models import TopicSubscription
from events.kit.signing import Purpose as SigningPurpose
from events.kit.signing import Signer

Purpose = Literal["confirm", "unsubscribe"]

_SIGNING: dict[Purpose, SigningPurpose] = {
    "confirm": SigningPurpose.ALERTS_CONFIRM,
    "unsubscribe": SigningPurpose.ALERTS_UNSUBSCRIBE,
}


def link_token(signer: Signer, subscription: TopicSubscription, purpose: Purpose) -> str:
    text = f"{subscription.id}:{int(subscription.created_at.timestamp())}"
    digest = signer.mac(_SIGNING[purpose], text)
    return f"{subscription.id}.{base64.urlsafe_b64encode(digest).decode()[:32]}"
