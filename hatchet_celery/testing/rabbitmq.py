"""A real, throw-away RabbitMQ node for tests: the broker half of the deployments.

Half of the Celery deployments run on RabbitMQ, so the package is tested on the real server
(Debian's ``rabbitmq-server``; its package does not start a service, and none is needed).
Each instance owns everything it starts, all on 127.0.0.1:

- an ``epmd`` (Erlang's port mapper) on a free port, started here and stopped by its pid, so
  nothing is left listening, and no other Erlang node on the machine is involved;
- one RabbitMQ node (AMQP on a free port, Erlang distribution on another), with its own
  data folder, log, cookie (``HOME`` points into the folder) and no plugins::

    with RabbitMQServer() as rabbit:
        app = Celery("proj", broker=rabbit.url)
        rabbit.stop_app(); rabbit.start_app()   # a broker restart, messages kept
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ..exceptions import ConfigurationError
from ._server import ServerProcess, free_port, terminate_process

_START_TIMEOUT = 90.0
_CTL_TIMEOUT = 60.0
_SBIN = Path("/usr/lib/rabbitmq/bin")


def rabbitmq_available() -> bool:
    """True when Debian's rabbitmq-server is installed (``.ci/system-deps.sh`` installs it)."""
    return (_SBIN / "rabbitmq-server").exists() and shutil.which("epmd") is not None


class RabbitMQServer(ServerProcess):
    """One RabbitMQ node on 127.0.0.1, with its own epmd, stopped by pid."""

    def __init__(self, *, data_dir: str | os.PathLike[str] | None = None) -> None:
        super().__init__(data_dir)
        self.dist_port = 0
        self.epmd_port = 0
        self.node = ""
        self._epmd: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> RabbitMQServer:
        """Start epmd and the node; return once the node accepts AMQP connections."""
        if not rabbitmq_available():
            raise ConfigurationError(
                "rabbitmq-server is not installed (apt-get install -y rabbitmq-server; "
                "`make test` runs .ci/system-deps.sh, which installs it)"
            )
        if self._running():
            return self
        self._prepare_data_dir("hatchet-celery-rabbitmq-")
        self._port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.node = f"hc{self.port}@localhost"
        self._start_epmd()
        self._write_config()
        log = open(self.data_dir / "server.out", "ab")  # noqa: SIM115 - owned by the child
        self._process = subprocess.Popen(
            [str(_SBIN / "rabbitmq-server")],
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._on_stop(_kill_group, self._process)
        self._wait_for_amqp(_START_TIMEOUT)
        return self

    def stop(self) -> None:
        """Stop the node and epmd (SIGTERM to their process groups, then SIGKILL)."""
        server, self._process = self._process, None
        if server is not None:
            _kill_group(server, grace=20.0)
        epmd, self._epmd = self._epmd, None
        if epmd is not None:
            terminate_process(epmd, 5.0)
        self._run_cleanups()

    def stop_app(self) -> None:
        """Stop the RabbitMQ application, keeping the Erlang node: a broker outage."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        """Start the application again and wait until it accepts connections."""
        self.ctl("start_app")
        self._wait_for_amqp(_START_TIMEOUT)

    def ctl(self, *args: str) -> str:
        """Run ``rabbitmqctl -n <node> ARGS`` against this node; returns its output."""
        result = subprocess.run(
            [str(_SBIN / "rabbitmqctl"), "-n", self.node, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=_CTL_TIMEOUT,
        )
        if result.returncode != 0:
            raise ConfigurationError(
                f"rabbitmqctl {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
        return result.stdout

    def queue_names(self) -> list[str]:
        """The names of the queues of the default vhost."""
        out = self.ctl("list_queues", "-q", "--no-table-headers", "name")
        return sorted(line.strip() for line in out.splitlines() if line.strip())

    # -- internals -------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        home = self.data_dir
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),  # the Erlang cookie lives here, not in the user's home
            "LANG": "C.UTF-8",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(home / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(home / "log"),
            "RABBITMQ_PID_FILE": str(home / "rabbit.pid"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(home / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),
        }

    def _write_config(self) -> None:
        home = self.data_dir
        (home / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
            "loopback_users = none\n"
            "disk_free_limit.absolute = 1MB\n"
            "log.console = false\n"
            "log.file.level = warning\n"
        )
        (home / "enabled_plugins").write_text("[].\n")
        (home / "advanced.config").write_text("[].\n")
        (home / "rabbitmq-env.conf").write_text("")

    def _start_epmd(self) -> None:
        epmd = shutil.which("epmd") or "epmd"
        self._epmd = subprocess.Popen(
            [epmd, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        process = self._epmd
        self._on_stop(terminate_process, process, 1.0)
        deadline = time.monotonic() + 10
        while not _listening(self.epmd_port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise ConfigurationError(f"epmd did not start on 127.0.0.1:{self.epmd_port}")
            time.sleep(0.05)

    def _wait_for_amqp(self, timeout: float) -> None:
        from kombu.connection import Connection

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._running():
                break
            if _listening(self.port):
                try:
                    with Connection(self.url, connect_timeout=2) as conn:  # type: ignore[no-untyped-call]
                        conn.ensure_connection(max_retries=1)
                        return
                except Exception:
                    pass
            time.sleep(0.2)
        tail = self._log_tail()
        self.stop()
        raise ConfigurationError(f"RabbitMQ did not accept connections in {timeout}s:\n{tail}")

    def _log_tail(self, lines: int = 30) -> str:
        texts = []
        for path in [self.data_dir / "server.out", *sorted((self.data_dir / "log").glob("*.log"))]:
            try:
                texts.append(path.read_text(errors="replace"))
            except OSError:
                continue
        return "\n".join("\n".join(texts).splitlines()[-lines:]) or "(no log)"


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _kill_group(process: subprocess.Popen[bytes], grace: float = 1.0) -> None:
    """SIGTERM the process group (the node and its helpers), SIGKILL after ``grace``."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
    # erl_child_setup and inet_gethost may outlive the node by a moment
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


__all__ = ["RabbitMQServer", "rabbitmq_available"]
