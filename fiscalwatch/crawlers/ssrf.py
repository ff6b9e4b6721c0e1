"""SSRF guard: only public http(s) addresses may be fetched.

Two checks share one address policy:
- ``AddressGuard.check_url`` resolves the host before a request, so nothing is sent
  to a refused address;
- ``guarded_adapter`` checks the peer of every socket that requests opens, which also
  defeats DNS rebinding (a name that resolves differently at connect time).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")


class UnsafeTarget(Exception):
    """A URL the crawler must not request; ``code`` is a stable slug, ``message`` is Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class AddressGuard:
    """Refuses loopback, private, link-local, reserved, multicast and other non-global addresses.

    ``allow_private`` lifts the restriction entirely; ``allowed_networks`` exempts only the
    given networks (e.g. one intranet host, or 127.0.0.1/32 for a local test portal).
    """

    def __init__(self, allow_private: bool = False, allowed_networks: Iterable[str] = ()):
        self.allow_private = allow_private
        self.allowed_networks = [ipaddress.ip_network(network) for network in allowed_networks]

    def is_allowed(self, address: str | IPAddress) -> bool:
        ip = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if self.allow_private or any(ip in network for network in self.allowed_networks):
            return True
        return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)

    def check_address(self, address: str) -> None:
        if not self.is_allowed(address):
            raise UnsafeTarget("private_address", f"目标地址 {address} 属于内网、本机或保留地址，已拒绝访问")

    def check_url(self, url: str) -> None:
        """Raise UnsafeTarget unless ``url`` is http(s) and every address of its host is allowed."""
        try:
            parts = urlsplit(url)
        except ValueError:
            raise UnsafeTarget("invalid_url", f"链接格式无效：{url}") from None
        if parts.scheme.lower() not in SCHEMES:
            raise UnsafeTarget("unsupported_scheme", f"不支持的链接协议：{parts.scheme or '无'}")
        host = parts.hostname
        if not host:
            raise UnsafeTarget("invalid_url", f"链接格式无效：{url}")
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise UnsafeTarget("dns_error", f"域名解析失败：{host}") from None
        for *_, sockaddr in infos:
            self.check_address(sockaddr[0])


class _PeerCheck:
    """Mixin for urllib3 connections: refuse the socket if its peer is not allowed."""

    guard: AddressGuard

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            self.guard.check_address(sock.getpeername()[0])
        except UnsafeTarget:
            sock.close()
            raise
        return sock


def guarded_adapter(guard: AddressGuard) -> HTTPAdapter:
    """A requests adapter whose connections enforce ``guard`` on the connected peer."""
    http_conn = type("GuardedHTTPConnection", (_PeerCheck, HTTPConnection), {"guard": guard})
    https_conn = type("GuardedHTTPSConnection", (_PeerCheck, HTTPSConnection), {"guard": guard})
    pools = {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return GuardedAdapter()
