"""Read-only attributes declared in one line each.

A class that shows many of the arguments it was built with as read-only attributes
(``Context``: what its task run was started with) would otherwise store each one by hand
and write one three-line property per value, all alike. Instead its constructor records
its arguments once, in ``self._given`` (``_twins.arguments(locals())``), and ``Given`` is
the property written once: a typed descriptor (``ctx.priority`` is an ``int | None`` to
mypy and IDEs), read-only like a property (to mypy too), that returns the recorded
argument of its name::

    class Context:
        priority: Given[int | None] = Given()  # self._given["priority"]
"""

from __future__ import annotations

from typing import Any, Generic, Never, NoReturn, Self, TypeVar, cast, overload

T = TypeVar("T")


class Given(Generic[T]):
    """The constructor argument ``<name>`` (or ``<of>``: this attribute is another name
    for it), read-only as ``<name>``."""

    def __init__(self, of: str | None = None) -> None:
        self.name = self.kept = of or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.kept = name, self.kept or name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: Any, owner: type | None = None) -> T | Self:
        return self if obj is None else cast(T, obj._given[self.kept])

    def __set__(self, obj: object, value: Never) -> NoReturn:
        raise AttributeError(f"{type(obj).__name__}.{self.name} is read-only")


__all__ = ["Given"]
