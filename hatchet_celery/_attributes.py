"""Read-only attributes declared in one line each.

A class that shows many values it was built with as read-only attributes (``Context``:
what its task run was started with) would otherwise write one three-line property per
value, all alike. ``Given`` is that property written once: a typed descriptor
(``ctx.priority`` is an ``int | None`` to mypy and IDEs), read-only like a property (to
mypy too), that returns the value kept under the attribute's name with a leading
underscore::

    class Context:
        priority: Given[int | None] = Given()  # returns self._priority
"""

from __future__ import annotations

from typing import Generic, Never, NoReturn, Self, TypeVar, cast, overload

T = TypeVar("T")


class Given(Generic[T]):
    """A value the object was built with, kept as ``_<name>`` (or ``_<of>``: another
    name for it), read-only as ``<name>``."""

    def __init__(self, of: str | None = None) -> None:
        self.name = self.kept = of or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.kept = name, self.kept or name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> T | Self:
        return self if obj is None else cast(T, getattr(obj, f"_{self.kept}"))

    def __set__(self, obj: object, value: Never) -> NoReturn:
        raise AttributeError(f"{type(obj).__name__}.{self.name} is read-only")


__all__ = ["Given"]
