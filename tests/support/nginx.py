"""Debian's nginx in front of the service, run from the repository's own configuration.

`deploy/nginx/triport.conf` is rendered as docs/deploy.md says and included by a minimal main
configuration that holds only what a distribution's /etc/nginx/nginx.conf would (pid, logs, temp
paths), all in a temporary prefix. nginx runs in the foreground as a child of the test.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "triport.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A fresh EC key and a certificate for localhost and 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "triport.crt", folder / "triport.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def render(values: dict[str, str]) -> str:
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    assert "{{" not in text, "a placeholder of deploy/nginx/triport.conf was left unrendered"
    return text


class Nginx:
    """nginx with the rendered site, TLS on `https_port` and the redirect on `http_port`."""

    def __init__(self, upstreams: list[str], https_port: int, http_port: int) -> None:
        self.prefix = Path(tempfile.mkdtemp(prefix="triport-nginx-"))
        self.prefix.chmod(0o755)  # nginx's workers drop to `nobody`
        self.https_port = https_port
        self.http_port = http_port
        certificate, certificate_key = self_signed_certificate(self.prefix)
        site = render(
            {
                "upstream_servers": " ".join(f"server {address};" for address in upstreams),
                "server_name": "localhost",
                "http_listen": f"127.0.0.1:{http_port}",
                "https_listen": f"127.0.0.1:{https_port}",
                "certificate": str(certificate),
                "certificate_key": str(certificate_key),
                "access_log": str(self.prefix / "access.log"),
            }
        )
        (self.prefix / "triport.conf").write_text(site)
        temp = {name: self.prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir()
            path.chmod(0o777)
        self.error_log = self.prefix / "error.log"
        (self.prefix / "nginx.conf").write_text(
            f"pid {self.prefix / 'nginx.pid'};\n"
            f"error_log {self.error_log} warn;\n"
            "worker_processes 1;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"    client_body_temp_path {temp['body']};\n"
            f"    proxy_temp_path {temp['proxy']};\n"
            f"    fastcgi_temp_path {temp['fastcgi']};\n"
            f"    uwsgi_temp_path {temp['uwsgi']};\n"
            f"    scgi_temp_path {temp['scgi']};\n"
            f"    include {self.prefix / 'triport.conf'};\n"
            "}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *extra: str) -> list[str]:
        return [
            NGINX,
            "-p",
            str(self.prefix),
            "-c",
            str(self.prefix / "nginx.conf"),
            "-e",
            str(self.error_log),
            *extra,
        ]

    def start(self) -> Nginx:
        checked = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=(self.prefix / "stderr.log").open("wb"),
        )
        # Ready when both ports accept connections (the pid file can come first).
        deadline = time.monotonic() + 30
        for port in (self.https_port, self.http_port):
            while True:
                assert self.process.poll() is None, self.log_text()
                assert time.monotonic() < deadline, f"nginx did not listen:\n{self.log_text()}"
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
        return self

    def log_text(self) -> str:
        logs = (self.error_log, self.prefix / "stderr.log")
        return "\n".join(p.read_text(errors="replace") for p in logs if p.exists())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def nginx_available() -> bool:
    return os.access(NGINX, os.X_OK)
