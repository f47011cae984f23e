"""Safe URL fetching against real local servers.

The "public site" is a test server on 127.0.0.2, reached through a fake resolver
(``public.example`` -> 127.0.0.2) and an ``allow`` predicate that admits exactly that address.
Anything on 127.0.0.1 therefore plays "elsewhere on the private network". A guard makes any
attempt to connect outside the loopback range, or to resolve a real name, fail the test at once.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rag.errors import FetchError, UnsafeURLError
from rag.urlfetch import FetchedPage, fetch_url
from testutils.fakes.server import FakeHandler, FakeServer

PUBLIC_IP = "127.0.0.2"
PAGE = b"<html><head><title>Public page</title></head><body><h1>Hello</h1><p>From the public site.</p></body></html>"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """No test here may reach beyond this machine, even if the code under test were wrong."""
    real_connect, real_resolve = socket.create_connection, socket.getaddrinfo

    def guarded_connect(address, *args, **kwargs):
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"attempted connection to {address!r}")
        return real_connect(address, *args, **kwargs)

    def guarded_resolve(host, *args, **kwargs):
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        if host_text != "localhost":
            try:
                socket.inet_aton(host_text)  # numeric forms only: no DNS query leaves the machine
            except OSError:
                try:
                    ipaddress.ip_address(host_text)
                except ValueError:
                    raise AssertionError(f"attempted DNS lookup of {host_text!r}") from None
        return real_resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_resolve)


class AliasServer(FakeServer):
    """FakeServer bound to another loopback address, so that 127.0.0.1 can play a private host."""

    scheme = "http"

    def __init__(self, handler, host: str = PUBLIC_IP, **state):
        self.httpd = ThreadingHTTPServer((host, 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.requests = []
        for key, value in state.items():
            setattr(self.httpd, key, value)
        # A short poll interval keeps shutdown (and so each test's teardown) quick.
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def public_url(self, path: str, host: str = "public.example") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


class SiteHandler(FakeHandler):
    def do_GET(self):
        self.record(host=self.headers.get("Host"))
        path, query = self.path_only, self.query
        try:
            if path == "/page":
                self._send(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
            elif path == "/redirect":
                self._send(302, b"", {"Location": query["to"][0]})
            elif path.startswith("/chain/"):
                hops = int(path.rsplit("/", 1)[1])
                self._send(301, b"", {"Location": f"/chain/{hops - 1}" if hops > 1 else "/page"})
            elif path == "/loop":
                self._send(302, b"", {"Location": "/loop"})
            elif path == "/status/404":
                self._send(404, b"missing", {"Content-Type": "text/plain"})
            elif path == "/big-declared":
                self._stream(declared=True)
            elif path == "/big-chunked":
                self._stream(declared=False)
            elif path in ("/drip-headers", "/drip-body"):
                self._drip(headers=path == "/drip-headers")
            elif path == "/slow":
                time.sleep(3.0)
                self._send(200, b"late", {"Content-Type": "text/plain"})
            else:
                self._send(404, b"", {})
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client hung up, as it should for oversized bodies

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, *, headers: bool, pieces: int = 60, gap: float = 0.15) -> None:
        """Each piece well within any read timeout, the whole far beyond the fetch's deadline;
        ``server.dripped`` counts the pieces sent before the client hung up."""
        self.server.dripped = 0
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")
        if headers:
            for number in range(pieces):
                time.sleep(gap)
                self.wfile.write(b"X-Drip-%d: 1\r\n" % number)
                self.wfile.flush()
                self.server.dripped += 1
            self.wfile.write(b"Content-Length: 2\r\n\r\nok")
            return
        self.wfile.write(b"Content-Length: %d\r\n\r\n" % pieces)
        self.wfile.flush()
        for _ in range(pieces):
            time.sleep(gap)
            self.wfile.write(b"x")
            self.wfile.flush()
            self.server.dripped += 1

    def _stream(self, *, declared: bool) -> None:
        """Up to 40 MB of body; records how much went out before the client gave up."""
        total, chunk = 40 * 1024 * 1024, b"x" * 65536
        self.server.streamed = 0
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if declared:
            self.send_header("Content-Length", str(total))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while self.server.streamed < total:
            if declared:
                self.wfile.write(chunk)
            else:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.server.streamed += len(chunk)
        if not declared:
            self.wfile.write(b"0\r\n\r\n")


class Resolver:
    """A fake DNS: fixed answers, counting the questions."""

    def __init__(self, answers: dict[str, list[str]] | None = None):
        self.answers = {"public.example": [PUBLIC_IP], **(answers or {})}
        self.calls: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.calls.append(host)
        return self.answers.get(host, [])


def allow_public(ip) -> bool:
    return str(ip) == PUBLIC_IP


@pytest.fixture
def site():
    with AliasServer(SiteHandler) as server:
        yield server


@pytest.fixture
def elsewhere():
    """A private service on 127.0.0.1 that must never be reached."""
    with FakeServer(SiteHandler) as server:
        yield server


def fetch(url: str, resolver: Resolver | None = None, **kwargs) -> FetchedPage:
    return fetch_url(url, resolver=resolver or Resolver(), allow=allow_public, **kwargs)


# --- refused before any connection ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1/", "this server itself"),
        ("http://127.1:8080/admin", "this server itself"),
        ("http://2130706433/", "this server itself"),
        ("http://[::1]/", "this server itself"),
        ("http://[::ffff:127.0.0.1]/", "this server itself"),
        ("http://10.0.0.5/", "private network"),
        ("http://192.168.1.1/router", "private network"),
        ("http://172.16.0.1/", "private network"),
        ("http://100.64.0.1/", "private network"),
        ("http://[fc00::1]/", "private network"),
        ("http://[fe80::1]/", "private network"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
        ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "internal service"),
        ("http://localhost:8000/", "internal service"),
        ("http://0.0.0.0/", "cannot be fetched"),
        ("http://224.0.0.1/", "reserved"),
        ("file:///etc/passwd", "http:// or https://"),
        ("ftp://example.com/file", "http:// or https://"),
        ("gopher://example.com/", "http:// or https://"),
        ("data:text/html,<h1>hi</h1>", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http:///nohost", "not a valid web address"),
    ],
)
def test_unsafe_urls_are_refused_by_the_default_policy(url, reason):
    with pytest.raises(UnsafeURLError) as caught:
        fetch_url(url)
    assert reason in caught.value.message


def test_names_resolving_to_private_addresses_are_refused():
    resolver = Resolver({
        "intranet.example": ["10.1.2.3"],
        "mixed.example": ["93.184.216.34", "192.168.0.10"],  # one bad answer is enough
        "mapped.example": ["::ffff:10.0.0.1"],
    })
    for host in ("intranet.example", "mixed.example", "mapped.example"):
        with pytest.raises(UnsafeURLError, match="private network"):
            fetch_url(f"http://{host}/", resolver=resolver)
    with pytest.raises(FetchError, match="could not be found"):
        fetch_url("http://nowhere.example/", resolver=resolver)


def test_the_test_allowance_still_refuses_metadata_and_other_addresses():
    resolver = Resolver({"meta.example": ["169.254.169.254"], "other.example": ["127.0.0.1"]})
    with pytest.raises(UnsafeURLError, match="cloud metadata"):
        fetch("http://meta.example/", resolver)
    with pytest.raises(UnsafeURLError, match="this server itself"):
        fetch("http://other.example/", resolver)


# --- fetching through the allowed test server -------------------------------------------------------------


def test_fetches_a_normal_page_by_ip_with_the_original_host(site):
    resolver = Resolver()
    url = site.public_url("/page")
    page = fetch(url, resolver)
    assert page == FetchedPage(url=url, final_url=url, content_type="text/html; charset=utf-8", data=PAGE)
    assert site.requests[0]["host"] == f"public.example:{site.port}"
    assert resolver.calls == ["public.example"]


def test_dns_rebinding_cannot_swap_the_address(site, elsewhere):
    class Rebinding(Resolver):
        def __call__(self, host):
            super().__call__(host)
            return [PUBLIC_IP] if len(self.calls) == 1 else ["127.0.0.1"]

    resolver = Rebinding()
    page = fetch(site.public_url("/page"), resolver)
    assert page.data == PAGE
    assert resolver.calls == ["public.example"]  # resolved once, connected to what was vetted
    assert elsewhere.requests == []


def test_redirects_are_followed_and_each_hop_is_vetted(site):
    page = fetch(site.public_url("/chain/3"))
    assert page.final_url == site.public_url("/page")
    assert page.data == PAGE
    assert [request["path"] for request in site.requests] == ["/chain/3", "/chain/2", "/chain/1", "/page"]


def test_redirect_to_a_private_port_is_refused(site, elsewhere):
    target = f"http://127.0.0.1:{elsewhere.httpd.server_address[1]}/page"
    with pytest.raises(UnsafeURLError, match="this server itself"):
        fetch(site.public_url(f"/redirect?to={target}"))
    assert elsewhere.requests == []


@pytest.mark.parametrize(
    "target, reason",
    [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://10.0.0.5/", "private network"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://localhost/", "internal service"),
    ],
)
def test_redirect_to_blocked_targets_is_refused(site, target, reason):
    with pytest.raises(UnsafeURLError) as caught:
        fetch(site.public_url(f"/redirect?to={target}"))
    assert reason in caught.value.message


def test_too_many_redirects(site):
    with pytest.raises(FetchError, match="too many times"):
        fetch(site.public_url("/loop"))
    assert len(site.requests) == 6  # the first request and five redirects


def test_error_status_is_reported(site):
    with pytest.raises(FetchError, match="HTTP status 404"):
        fetch(site.public_url("/status/404"))


@pytest.mark.parametrize("path", ["/big-declared", "/big-chunked"])
def test_oversized_bodies_are_abandoned(site, path):
    with pytest.raises(FetchError, match="larger than"):
        fetch(site.public_url(path), max_bytes=200_000)
    time.sleep(0.2)
    assert getattr(site.httpd, "streamed", 0) < 20 * 1024 * 1024  # stopped long before the 40 MB


def test_size_and_time_limits_default_to_settings(site, settings):
    settings.URL_FETCH_MAX_BYTES = 50
    with pytest.raises(FetchError, match="larger than"):
        fetch(site.public_url("/page"))
    settings.URL_FETCH_MAX_BYTES = 10_000
    settings.URL_FETCH_TIMEOUT = 0.5
    started = time.monotonic()
    with pytest.raises(FetchError, match="too long"):
        fetch(site.public_url("/slow"))
    assert time.monotonic() - started < 2.5  # gave up well before the server answered


@pytest.mark.parametrize("path", ["/drip-headers", "/drip-body"])
def test_the_deadline_is_a_wall_clock_one_against_drip_feeding(site, path):
    # 60 pieces 0.15 s apart: every read gets data in time, the whole takes 9 s against a 1 s deadline.
    with pytest.raises(FetchError, match="too long"):
        fetch(site.public_url(path), timeout=1.0)
    time.sleep(0.5)  # the server notices the hang-up on its next writes
    assert getattr(site.httpd, "dripped", 0) < 30  # stopped at the deadline, not when the server was done


# --- https: the certificate is checked against the name, with SNI, while connecting to the IP ------------


def make_certificate(hostname: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def tls_site(tmp_path):
    certificate, key = make_certificate("public.example")
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server_names: list[str | None] = []
    server_context.sni_callback = lambda sock, name, context: server_names.append(name)
    server = AliasServer(SiteHandler)
    server.scheme = "https"
    server.httpd.socket = server_context.wrap_socket(server.httpd.socket, server_side=True)
    server.server_names = server_names
    server.client_context = ssl.create_default_context(cadata=certificate.decode())
    with server:
        yield server


def test_https_sends_the_original_name_as_sni_and_verifies_it(tls_site):
    page = fetch(tls_site.public_url("/page"), verify=tls_site.client_context)
    assert page.data == PAGE
    assert tls_site.server_names == ["public.example"]
    assert tls_site.requests[0]["host"] == f"public.example:{tls_site.port}"


def test_https_certificate_for_another_name_is_rejected(tls_site):
    resolver = Resolver({"impostor.example": [PUBLIC_IP]})
    with pytest.raises(FetchError, match="could not be verified"):
        fetch(tls_site.public_url("/page", host="impostor.example"), resolver, verify=tls_site.client_context)
    assert tls_site.requests == []


def test_redirect_query_is_passed_through_untouched(site):
    # The query string survives the switch from name to IP.
    page = fetch(site.public_url("/redirect?to=/page%3Fa%3D1"))
    assert urlsplit(page.final_url).path == "/page"
    assert parse_qs(urlsplit(page.final_url).query) == {"a": ["1"]}
