"""GONGKAI_SMTP_SECURITY=starttls with a login, against aiosmtpd with a
certificate made for the test (trusted through SSL_CERT_FILE, as a deployment would
trust its own CA)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifications.channels.mail import Letter, Mailer, SmtpSettings
from tests.notifications.conftest import Inbox, free_port

LETTER = Letter(7, "hu@example.cn", ("分派给您：测试", "Assigned to you: test"),
                ("正文", "Body"))


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Iterator[ssl.SSLContext]:
    """A server context whose self-made certificate for 127.0.0.1 the client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSL_CERT_FILE", str(cert_file))
        yield context


def accept_hu(server, session, envelope, mechanism, auth_data) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and auth_data == (b"hu", b"s3cret")
    return AuthResult(success=good)


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
def test_the_mailer_logs_in_after_starttls(tls):
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=accept_hu,
                        auth_require_tls=True, tls_context=tls, require_starttls=True)
    server.start()
    try:
        mailer = Mailer(SmtpSettings("127.0.0.1", port, "starttls", "hu", "s3cret",
                                     "gongkai@example.cn"))
        mailer.send(LETTER)
        mailer.close()
    finally:
        server.stop()
    [mail] = inbox.messages
    assert mail["Message-ID"] == "<gongkai-7@example.cn>"
