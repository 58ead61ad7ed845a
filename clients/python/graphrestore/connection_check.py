"""Why a channel to the gateway failed, in words: gRPC says only "Socket closed" or
"failed to connect", so the connection is made again here, by hand, with the same files."""

from __future__ import annotations

import socket
import ssl

from graphrestore.channel import is_loopback

CONNECT_TIMEOUT_S = 5.0
# HTTP/2's client preface and an empty SETTINGS frame: a gateway answers with its own
# SETTINGS, or (TLS 1.3) with the alert that says why it refused our certificate.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
# X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
NAME_MISMATCH = (62, 64)


def explain(
    target: str,
    *,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> str | None:
    """Which side refused the connection to `target` and why, or None if a connection
    made the same way works (the failure was elsewhere)."""
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    try:
        raw = socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S)
    except ConnectionRefusedError:
        return f"nothing listens on {target}"
    except OSError as error:
        return f"{target} cannot be reached: {error.strerror or error}"
    with raw:
        if not (ca_file or cert_file or key_file) and is_loopback(target):
            return _plaintext_refused(raw, target)
        return _tls_refused(raw, host, ca_file, cert_file, key_file)


def _plaintext_refused(raw: socket.socket, target: str) -> str | None:
    """We spoke plaintext (a loopback gateway without TLS files): does it speak TLS?"""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with context.wrap_socket(raw):
            pass
    except (ssl.SSLError, OSError):
        return None
    return (
        f"the gateway on {target} speaks TLS and restorectl spoke plaintext: give --ca-file "
        "(the CA of its certificate), and --cert and --key if it takes callers by certificate"
    )


def _tls_refused(
    raw: socket.socket,
    host: str,
    ca_file: str | None,
    cert_file: str | None,
    key_file: str | None,
) -> str | None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_alpn_protocols(["h2"])
    if ca_file:
        context.load_verify_locations(ca_file)
    else:
        context.load_default_certs()
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    trusted_by = f"--ca-file {ca_file}" if ca_file else "the system's CAs (no --ca-file)"
    try:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(HTTP2_PREFACE)
            answer = tls.recv(1)
    except ssl.SSLCertVerificationError as error:
        if error.verify_code in NAME_MISMATCH:
            return (
                f"restorectl refused the gateway's certificate: it does not name {host} "
                f"({error.verify_message}); use an address its certificate names"
            )
        return (
            f"restorectl refused the gateway's certificate: it is not trusted by {trusted_by} "
            f"({error.verify_message})"
        )
    except ssl.SSLError as error:
        reason = error.reason or ""
        if "WRONG_VERSION_NUMBER" in reason or "RECORD_LAYER" in reason:
            return "the gateway does not speak TLS: drop --ca-file, --cert and --key"
        if "ALERT" not in reason:
            return f"the TLS handshake with the gateway failed: {reason or error}"
        answer = b""  # the gateway said no with an alert rather than by hanging up
    except (TimeoutError, OSError):
        return None
    if answer:
        return None
    # TLS 1.3: the gateway checks our certificate after our side of the handshake, and
    # a gRPC server hangs up without a word when it does not like it.
    if not cert_file:
        return (
            "the gateway refused the connection: it takes callers by client certificate "
            "(mTLS) and none was given: pass --cert and --key"
        )
    return (
        f"the gateway refused the client certificate {cert_file}: it is not signed by a CA "
        "the gateway trusts, has expired, or is not for client auth"
    )
