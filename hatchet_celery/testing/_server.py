"""What the testing kit's servers (``RedisServer``, ``RabbitMQServer``) share."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class ServerProcess:
    """A server this process starts and stops; ``with Server() as server:`` does both."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> object:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["ServerProcess"]
