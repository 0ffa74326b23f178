"""Alert links: ``<id>.<HMAC>`` of the subscription's id and ``created_at``, keyed with the
app secret, one purpose each. Nothing secret is stored; the worker computes them when
sending (``messages.AlertMail``) and the service checks them (``subscription_by_token``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Literal

from events.alerts.models import TopicSubscription

Purpose = Literal["confirm", "unsubscribe"]


def link_token(secret: str, subscription: TopicSubscription, purpose: Purpose) -> str:
    text = f"alerts:{purpose}:{subscription.id}:{int(subscription.created_at.timestamp())}"
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return f"{subscription.id}.{base64.urlsafe_b64encode(digest).decode()[:32]}"
