"""The ``id`` path convertor: ``{registration_id:id}`` matches only ids the database can hold.

A longer or larger number does not match the route at all, so it is a 404 like any other
unknown path, never a query that fails (see ``kit/ids.py``). Routes spell their id
parameters with ``id_param(name)``, which also makes sure the convertor is registered
before the route is built.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

from events.kit.ids import MAX_ID, valid_id


def _up_to(limit: int) -> str:
    """A regex for the decimal numbers 1..limit (no sign, leading zeros allowed)."""
    digits = str(limit)
    options = [f"[0-9]{{1,{len(digits) - 1}}}"]
    for i, digit in enumerate(digits):
        if digit != "0":
            below = f"[0-{int(digit) - 1}]" if digit != "1" else "0"
            rest = len(digits) - i - 1
            options.append(digits[:i] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(digits)
    return "0*(?:" + "|".join(options) + ")"


class IdConvertor(Convertor[int]):
    regex = _up_to(MAX_ID)

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int | str) -> str:
        number = int(value)  # the templates' url() hands every parameter over as text
        if not valid_id(number):
            raise ValueError(f"not a row id: {value!r}")
        return str(number)


register_url_convertor("id", IdConvertor())


def id_param(name: str) -> str:
    """``{name:id}``, for a route path."""
    return "{" + name + ":id}"
