"""Fetch a web page for RAG ingestion without letting a user aim the server at its own network (SSRF).

Every hop (the first URL and each redirect) is vetted the same way: http(s) only, no credentials in
the URL, no internal host names, and every address the host resolves to must be public. The
request then goes to the vetted IP itself, with the original name in the ``Host`` header and, for
https, as the TLS server name (httpx's ``sni_hostname`` extension) so that the certificate is still
checked against the name. Nothing is resolved twice, so DNS rebinding between check and connect
cannot redirect the connection. Redirects are followed here (at most five), the body is streamed and
abandoned as soon as it passes the size limit, and the whole fetch has one wall-clock deadline: every
socket operation (connect, TLS handshake, each read and write) waits at most until it, so a server
drip-feeding its headers or body cannot hold the fetch past it.

``check_url`` runs the same vetting without fetching: the form adding a URL document refuses there
what the worker would refuse later (the worker still vets again at fetch time: DNS can change).

``resolver`` and ``allow`` (of both functions) exist for tests: a fake resolver maps made-up names to a local test
server, and ``allow`` admits exactly that server's address; production uses the defaults.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .errors import FetchError, UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Iterable[str]]
AllowPredicate = Callable[[IPAddress], bool]

MAX_REDIRECTS = 5
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
USER_AGENT = "cjhirashi-agents/1.0 (document fetcher)"

# Names that reach internal services whatever they resolve to.
BLOCKED_HOSTNAMES = {"localhost", "metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
# Cloud instance-metadata endpoints (AWS, GCP, Azure, ECS, Alibaba): refused even by a custom ``allow``.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("fd00:ec2::254"),
}
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class FetchedPage:
    url: str
    final_url: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Target:
    url: httpx.URL
    host: str  # ASCII (IDNA) host name, no trailing dot
    ips: tuple[IPAddress, ...]


def fetch_url(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    resolver: Resolver | None = None,
    allow: AllowPredicate | None = None,
    verify: ssl.SSLContext | bool = True,
) -> FetchedPage:
    """GET ``url`` safely and return its body.

    ``max_bytes`` defaults to ``settings.URL_FETCH_MAX_BYTES``; ``timeout`` (seconds, for the whole
    fetch, redirects included) to ``settings.URL_FETCH_TIMEOUT``. ``resolver`` maps a host name to
    IP strings (default: ``socket.getaddrinfo``); ``allow`` decides which IPs may be contacted
    (default: public addresses only). ``verify`` is passed to httpx (a CA context in tests).
    """
    max_bytes = settings.URL_FETCH_MAX_BYTES if max_bytes is None else max_bytes
    timeout = settings.URL_FETCH_TIMEOUT if timeout is None else timeout
    resolver = resolver or resolve_host
    deadline = time.monotonic() + timeout

    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = _vet(current, resolver, allow)
        with httpx.Client(transport=_deadline_transport(deadline, verify), trust_env=False,
                          follow_redirects=False) as client:
            # A fresh client per hop: a pooled connection must never carry another host's request.
            response = _open(client, target, deadline)
            try:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(_("The page redirected without saying where to."))
                    try:
                        current = str(httpx.URL(current).join(location.strip()))
                    except (httpx.InvalidURL, ValueError):
                        raise FetchError(_("The page redirected to an invalid address.")) from None
                    continue
                if not 200 <= response.status_code < 300:
                    raise FetchError(
                        _("The page answered with HTTP status %(status)s.") % {"status": response.status_code}
                    )
                data = _read_body(response, max_bytes, deadline)
                return FetchedPage(url=url, final_url=current,
                                   content_type=response.headers.get("content-type", ""), data=data)
            finally:
                response.close()
    raise FetchError(_("The page redirected too many times (more than %(count)s).") % {"count": MAX_REDIRECTS})


def check_url(url: str, *, resolver: Resolver | None = None, allow: AllowPredicate | None = None) -> None:
    """Vet ``url`` as ``fetch_url`` vets each hop (scheme, host, every resolved address) without
    connecting; raises ``UnsafeURLError`` or ``FetchError`` (an unknown host) with the same message."""
    _vet(url, resolver or resolve_host, allow)


def resolve_host(host: str) -> list[str]:
    """All addresses ``host`` resolves to (IPv4 and IPv6), in resolver order."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise FetchError(_("The address %(host)s could not be found.") % {"host": host}) from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def refusal_reason(ip: IPAddress) -> str | None:
    """Why the strict policy refuses ``ip``, or None when it is a public address."""
    if ip in METADATA_ADDRESSES:
        return _("This address points to a cloud metadata service and cannot be fetched.")
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return refusal_reason(embedded)
    if ip.is_loopback:
        return _("This address points to this server itself and cannot be fetched.")
    if ip.is_private or ip.is_link_local or ip in _SHARED_ADDRESS_SPACE:
        return _("This address points to a private network and cannot be fetched.")
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return _("This address is reserved and cannot be fetched.")
    return None


# --- internals ---------------------------------------------------------------------------------------


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one actually reaches (IPv4-mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _vet(url: str, resolver: Resolver, allow: AllowPredicate | None) -> _Target:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise UnsafeURLError(_("This is not a valid web address.")) from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURLError(_("Only web addresses starting with http:// or https:// can be fetched."))
    if parsed.userinfo:
        raise UnsafeURLError(_("Web addresses with a user name or password cannot be fetched."))
    try:
        host = parsed.raw_host.decode("ascii").rstrip(".").lower()
    except UnicodeDecodeError:
        raise UnsafeURLError(_("This is not a valid web address.")) from None
    if not host:
        raise UnsafeURLError(_("This is not a valid web address."))
    if host in BLOCKED_HOSTNAMES or host.endswith(".localhost"):
        raise UnsafeURLError(_("This address points to an internal service and cannot be fetched."))

    try:
        ips: list[IPAddress] = [ipaddress.ip_address(host)]
    except ValueError:
        ips = []
        for address in resolver(host):
            try:
                ips.append(ipaddress.ip_address(address))
            except ValueError:
                raise FetchError(_("The address %(host)s could not be found.") % {"host": host}) from None
    if not ips:
        raise FetchError(_("The address %(host)s could not be found.") % {"host": host})
    # Every address must pass, not just one: the connection may go to any of them.
    for ip in ips:
        reason = _refusal(ip, allow)
        if reason:
            raise UnsafeURLError(reason)
    return _Target(url=parsed, host=host, ips=tuple(dict.fromkeys(ips)))


def _refusal(ip: IPAddress, allow: AllowPredicate | None) -> str | None:
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if ip in METADATA_ADDRESSES or embedded in METADATA_ADDRESSES:
        return _("This address points to a cloud metadata service and cannot be fetched.")
    if allow is None:
        return refusal_reason(ip)
    if allow(ip):
        return None
    return refusal_reason(ip) or _("This address is not allowed.")


def _deadline_transport(deadline: float, verify: ssl.SSLContext | bool) -> httpx.HTTPTransport:
    """httpx's transport, its connections made through a backend that bounds every socket wait by
    ``deadline``: httpx's own timeouts apply to each read apart, which a drip-fed body resets forever."""
    transport = httpx.HTTPTransport(verify=verify, trust_env=False)
    pool = transport._pool  # httpx keeps no public hook for the network backend
    if not isinstance(getattr(pool, "_network_backend", None), httpcore.NetworkBackend):
        raise RuntimeError("httpx/httpcore changed: cannot install the fetch deadline")
    pool._network_backend = _DeadlineBackend(pool._network_backend, deadline)
    return transport


def _bounded(timeout: float | None, deadline: float, error: type[Exception]) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the fetch deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: float):
        self._stream, self._deadline = stream, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, self._deadline, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, self._deadline, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(ssl_context, server_hostname,
                                        _bounded(timeout, self._deadline, httpcore.ConnectTimeout))
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend, deadline: float):
        self._backend, self._deadline = backend, deadline

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._backend.connect_tcp(host, port, _bounded(timeout, self._deadline, httpcore.ConnectTimeout),
                                           local_address=local_address, socket_options=socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _open(client: httpx.Client, target: _Target, deadline: float) -> httpx.Response:
    """Send the GET to the vetted addresses in turn; the first that connects answers."""
    last_error: Exception | None = None
    for ip in target.ips:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(_("The page took too long to answer."))
        extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
        request = client.build_request(
            "GET",
            target.url.copy_with(host=str(ip)),
            headers={
                "Host": target.url.netloc.decode("ascii"),
                "User-Agent": USER_AGENT,
                "Accept": "text/html,application/xhtml+xml,text/plain,text/markdown,text/csv,application/pdf,*/*;q=0.5",
                # Compressed bodies could expand far past the limit inside one read.
                "Accept-Encoding": "identity",
            },
            timeout=httpx.Timeout(remaining),
            extensions=extensions,
        )
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last_error = exc
            continue
        except httpx.TimeoutException:
            raise FetchError(_("The page took too long to answer.")) from None
        except httpx.HTTPError:
            raise FetchError(_("The page could not be fetched from %(host)s.") % {"host": target.host}) from None
    if last_error is not None and _is_tls_error(last_error):
        raise FetchError(_("The secure connection to %(host)s could not be verified.") % {"host": target.host})
    raise FetchError(_("Could not connect to %(host)s.") % {"host": target.host})


def _is_tls_error(error: BaseException) -> bool:
    seen = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "SSL" in str(error) or "certificate" in str(error).lower()


def _read_body(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    too_large = _("The page is larger than the %(limit)s limit.") % {"limit": filesizeformat(max_bytes)}
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(too_large)
    body = bytearray()
    try:
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(too_large)
            if time.monotonic() > deadline:
                raise FetchError(_("The page took too long to answer."))
    except httpx.TimeoutException:
        raise FetchError(_("The page took too long to answer.")) from None
    except httpx.HTTPError:
        raise FetchError(_("The page could not be read completely.")) from None
    return bytes(body)
