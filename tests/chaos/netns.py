"""Network namespaces for the network-cut case: a worker behind a veth pair it alone uses.

Each ``Link`` is a namespace made here (``ip netns add``) joined to the host by a veth
pair; the host end gets ``198.18.<n>.1/30`` and the namespace end ``198.18.<n>.2/30``
(198.18.0.0/15 is the range set aside for network benchmark tests, RFC 2544, so these
addresses exist only on the two ends made here). ``cut()`` takes the host end down,
which drops every packet of the link without resetting a TCP connection, as a pulled
cable or a partition would; ``restore()`` brings it back.
"""

from __future__ import annotations

import os
import shutil
import subprocess


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def netns_available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    probe = f"hcprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"ip netns add failed: {getattr(exc, 'stderr', b'')!r}"
    _ip("netns", "del", probe)
    return None


class Link:
    def __init__(self, index: int) -> None:
        tag = f"{os.getpid() % 100000}{index}"
        self.netns = f"hcns{tag}"
        self.host_if, self.ns_if = f"hch{tag}", f"hcn{tag}"
        self.host_ip = f"198.18.{index}.1"
        self.ns_ip = f"198.18.{index}.2"

    @property
    def wrapper(self) -> list[str]:
        """Run a command inside the namespace (``ip netns exec`` execs it in place)."""
        return ["ip", "netns", "exec", self.netns]

    def create(self) -> Link:
        _ip("netns", "add", self.netns)
        try:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _ip("link", "set", self.ns_if, "netns", self.netns)
            _ip("addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            inside = ["netns", "exec", self.netns, "ip"]
            _ip(*inside, "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
            _ip(*inside, "link", "set", self.ns_if, "up")
            _ip(*inside, "link", "set", "lo", "up")
        except BaseException:
            self.delete()
            raise
        return self

    def cut(self) -> None:
        _ip("link", "set", self.host_if, "down")

    def restore(self) -> None:
        _ip("link", "set", self.host_if, "up")

    def delete(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, timeout=10)
