"""Read-only attributes declared in one line each.

A class that shows many values as read-only attributes (``Context``: what its task run
was started with; ``Hatchet``: its feature clients) would otherwise write one three-line
property per value, all alike. ``ReadOnly`` is that property written once: a typed
descriptor (``ctx.priority`` is an ``int | None`` to mypy and IDEs), read-only like a
property, whose subclass says where the value is read from::

    class Context:
        priority: Given[int | None] = Given()  # returns self._priority
"""

from __future__ import annotations

from typing import Any, Generic, Never, NoReturn, Self, TypeVar, cast, overload

T = TypeVar("T")


class ReadOnly(Generic[T]):
    """A read-only attribute named by the class attribute that holds it."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> T | Self:
        return self if obj is None else self.read(obj)

    def __set__(self, obj: object, value: Never) -> NoReturn:  # read-only to mypy too
        raise AttributeError(f"{type(obj).__name__}.{self.name} is read-only")

    def read(self, obj: Any) -> T:
        """The attribute's value on ``obj``."""
        raise NotImplementedError


class Given(ReadOnly[T]):
    """A value the object was built with, kept as ``_<name>``."""

    def read(self, obj: Any) -> T:
        return cast(T, getattr(obj, f"_{self.name}"))


__all__ = ["Given", "ReadOnly"]
