"""nginx in front of a test server, run as the test's own process with the configuration of docs/deploy.md.

The plain-HTTP block of docs/deploy.md is taken as written; only its two
addresses change (nginx on a free port, the upstream on the server's port).
Never the system's nginx service: a private prefix, pid file and logs in a
temporary directory, stopped by its pid.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port

DEPLOY_DOC = ROOT / "docs" / "deploy.md"
DOC_LISTEN = "listen 8080;"
DOC_UPSTREAM = "server 127.0.0.1:8050;"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def documented_config() -> str:
    """The first ```nginx block after the heading "nginx, plain HTTP" in docs/deploy.md."""
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    section = text[text.index("## nginx, plain HTTP") :]
    match = re.search(r"```nginx\n(.*?)```", section, re.S)
    assert match, "docs/deploy.md has no nginx block under 'nginx, plain HTTP'"
    block = match.group(1)
    assert DOC_LISTEN in block and DOC_UPSTREAM in block, "the documented block changed its addresses"
    return block


class NginxProxy:
    def __init__(self, workdir: Path, upstream_port: int) -> None:
        self.dir = workdir
        self.upstream_port = upstream_port
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        block = documented_config().replace(DOC_LISTEN, f"listen 127.0.0.1:{self.port};")
        block = block.replace(DOC_UPSTREAM, f"server 127.0.0.1:{self.upstream_port};")
        d = self.dir
        temp = "\n".join(f"  {kind}_temp_path {d / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp directory
        return (
            f"{user}daemon off;\nmaster_process on;\nworker_processes 1;\npid {d / 'nginx.pid'};\n"
            f"error_log {d / 'error.log'} warn;\nevents {{ worker_connections 512; }}\n"
            f"http {{\n  access_log {d / 'access.log'};\n{temp}\n{block}\n}}\n"
        )

    def start(self, timeout: float = 30.0) -> NginxProxy:
        binary = nginx_binary()
        if binary is None:
            pytest.skip("nginx is not installed (scripts/test installs Debian's nginx)")
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "nginx.conf"
        conf.write_text(self.config(), encoding="utf-8")
        log = open(self.dir / "stderr.log", "ab")  # noqa: SIM115 - nginx writes to it for its whole life
        self.proc = subprocess.Popen([binary, "-p", str(self.dir), "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {(self.dir / 'stderr.log').read_text()}"
                                   f"{(self.dir / 'error.log').read_text() if (self.dir / 'error.log').exists() else ''}")
            try:
                httpx.get(self.url + "/api/health", timeout=2)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not answer")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
