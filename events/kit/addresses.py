"""Email addresses on their way out: the SMTP envelope, the To header and ``mailto:`` URIs.

Addresses are stored as ``registration.schemas.parse_email`` leaves them: lowercase, NFC,
the domain in its Unicode form (``jöran@exämple.com``). What leaves the app is written so
that the most software can carry it:

- the domain always as IDNA A-labels (``xn--exmple-cua.com``, IDNA 2008 with the UTS 46
  mapping, the same conversion ``email-validator`` checks with). Any relay and any DNS
  understands that form, so an ASCII mailbox name at an international domain never needs
  SMTPUTF8;
- a mailbox name (the part before the ``@``) with non-ASCII letters cannot be rewritten: the
  message needs a relay that offers SMTPUTF8 (RFC 6531), or it cannot be sent at all.
"""

from __future__ import annotations

from urllib.parse import quote

import idna


class UnusableAddress(ValueError):
    """Not an address we can write (no ``@``, or a domain that is not a domain name)."""


def split_address(address: str) -> tuple[str, str]:
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise UnusableAddress(f"not an email address: {address!r}")
    return local, domain


def ascii_domain(domain: str) -> str:
    """The domain as IDNA A-labels; an ASCII domain is returned as it is."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise UnusableAddress(f"not a domain name: {domain!r} ({exc})") from None


def smtp_address(address: str) -> str:
    """The address for the SMTP envelope: the mailbox name as it is, the domain IDNA-encoded."""
    local, domain = split_address(address)
    return f"{local}@{ascii_domain(domain)}"


def needs_smtputf8(address: str) -> bool:
    """Whether the address can only travel with SMTPUTF8 (a non-ASCII mailbox name)."""
    return not smtp_address(address).isascii()


# RFC 6068's characters that may stay as they are in a mailto: local part (unreserved and
# "some-delims"); everything else, UTF-8 included, is percent-encoded.
_MAILTO_SAFE = "!$'()*+,;:"


def mailto(address: str) -> str:
    """A ``mailto:`` URI (RFC 6068) for a calendar's ORGANIZER or ATTENDEE. The mailbox
    name is percent-encoded UTF-8 (``j%C3%B6ran``), the only form RFC 6068 has for it; the
    domain is written as IDNA A-labels rather than percent-encoded, which RFC 6068 also
    allows and which calendar clients that know nothing of IDNA can still send to."""
    local, domain = split_address(address)
    return f"mailto:{quote(local, safe=_MAILTO_SAFE)}@{ascii_domain(domain)}"
