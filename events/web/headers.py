"""Security headers on every response (a pure ASGI middleware: no per-request overhead
beyond appending a few precomputed headers)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (
                b"permissions-policy",
                b"camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        ]
        if https:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A copy: the message may be shared (a cached response sent again). A header
                # the response set itself wins (a private page's stricter Referrer-Policy):
                # browsers obey the last of two, so the default is not appended after it.
                own = message.get("headers", ())
                present = {name.lower() for name, _ in own}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*own, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
