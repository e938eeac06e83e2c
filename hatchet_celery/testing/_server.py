"""What the testing kit's servers (``RedisServer``, ``RabbitMQServer``) share.

Each owns the processes it starts, stops them by pid, and keeps its files in one data
folder: the one it was given, or a temporary one it removes when it stops. Every cleanup
is a ``weakref.finalize``, so it runs once: at ``stop()``, or when a test that forgot
``stop()`` drops the server (or the interpreter exits).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self


class ServerProcess:
    """A server this process starts and stops; ``with Server() as server:`` does both."""

    def __init__(self, data_dir: str | os.PathLike[str] | None) -> None:
        self._port: int | None = None
        self._given_dir = Path(data_dir) if data_dir is not None else None
        self._tmp_dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None  # the server itself
        self._finalizers: list[weakref.finalize[Any, Any]] = []

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

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.pid is not None else "stopped"
        return f"{type(self).__name__}(port={self._port}, {state})"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} has no port until start() picks one")
        return self._port

    @property
    def pid(self) -> int | None:
        """The server's pid while its process exists (None once stopped or killed)."""
        return self._process.pid if self._process is not None else None

    @property
    def data_dir(self) -> Path:
        folder = self._given_dir or self._tmp_dir
        if folder is None:
            name = type(self).__name__
            raise RuntimeError(f"{name} has no data folder until start() creates one")
        return folder

    def _running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _prepare_data_dir(self, prefix: str) -> Path:
        """The data folder, created: the one given, or a temporary one that stop() removes."""
        if self._given_dir is None and self._tmp_dir is None:
            self._tmp_dir = Path(tempfile.mkdtemp(prefix=prefix))
            self._on_stop(shutil.rmtree, self._tmp_dir, True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def _on_stop(self, cleanup: Callable[..., object], *args: Any) -> None:
        """Run ``cleanup(*args)`` once: at stop(), or when this object is collected."""
        self._finalizers.append(weakref.finalize(self, cleanup, *args))

    def _run_cleanups(self) -> None:
        """Run the cleanups not run yet, newest first (a temporary folder goes last)."""
        for finalizer in reversed(self._finalizers):
            finalizer()
        self._finalizers.clear()
        self._tmp_dir = None


def terminate_process(
    process: subprocess.Popen[bytes], grace: float, sig: signal.Signals = signal.SIGTERM
) -> None:
    """Signal ``process``, SIGKILL it if it outlives ``grace`` seconds, and always reap it."""
    if process.poll() is None:
        try:
            process.send_signal(sig)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def free_port() -> int:
    """A port nobody listens on now; a server retries if another process takes it first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


__all__ = ["ServerProcess", "free_port", "terminate_process"]
