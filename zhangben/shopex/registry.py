"""The method registry: ``class.method`` name → handler.

A handler takes a :class:`MethodContext` and the request's parameters (the PHP-style array:
strings, nested dicts; numbers and booleans when the body was JSON) and returns the data
dict of a success, or raises :class:`~zhangben.shopex.params.ParamError`.

Feature modules register with the decorator::

    from zhangben.shopex.registry import shopex_method

    @shopex_method("finance.getList")
    def get_list(ctx: MethodContext, params: dict) -> dict: ...

Importing a module registers its methods; :mod:`zhangben.shopex.gateway` imports every
method module by name (add a new one there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from zhangben.access.integrators import Integrator
from zhangben.core.ledger import Ledger


@dataclass(frozen=True, slots=True)
class MethodContext:
    """What a handler may use: the ledger, the calling app (scope, masking), the business
    time zone and the response style (``seed`` numbers vs ``shopex`` strings)."""

    ledger: Ledger
    app: Integrator
    tz: ZoneInfo
    style: str


Handler = Callable[[MethodContext, dict[str, Any]], dict[str, Any]]


class MethodRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> Handler:
        if "." not in name.strip(".") or name in self._handlers:
            raise ValueError(f"cannot register method {name!r}")
        self._handlers[name] = handler
        return handler

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    def names(self) -> list[str]:
        return sorted(self._handlers)


#: The registry the gateway uses.
REGISTRY = MethodRegistry()


def shopex_method(name: str) -> Callable[[Handler], Handler]:
    """Decorator: register ``handler`` as ``name`` in :data:`REGISTRY`."""

    def decorate(handler: Handler) -> Handler:
        return REGISTRY.register(name, handler)

    return decorate
