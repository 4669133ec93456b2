"""Shared fixtures for the Python peers (Okta's SDK, SAML SPs, OIDC RPs).

Each test module gets its own gateway: the real `vestibule` binary, plain
HTTP on a free loopback port, a fresh data directory, and a bootstrap admin
with a known password and API token. It is stopped when the module ends.
"""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN_LOGIN = "admin@example.com"
ADMIN_PASSWORD = "Correct-Horse-Battery-9"
API_TOKEN = "00pythonpeertoken0123456789abcdefgh"


@dataclass
class Gateway:
    base: str
    token: str
    data_dir: str
    process: subprocess.Popen

    def url(self, path: str) -> str:
        return self.base + path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(extra_env=None) -> Gateway:
    binary = os.environ.get("VESTIBULE_BIN", str(ROOT / "target" / "debug" / "vestibule"))
    if not os.path.exists(binary):
        raise RuntimeError(f"{binary} is missing: run `cargo build -p gateway --bin vestibule` first")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="vestibule-py-")
    env = dict(os.environ)
    env.update(
        {
            "VESTIBULE_LISTEN": f"127.0.0.1:{port}",
            "VESTIBULE_PUBLIC_URL": base,
            "VESTIBULE_TLS": "off",
            "VESTIBULE_DATA_DIR": data_dir,
            "VESTIBULE_BOOTSTRAP_ADMIN_LOGIN": ADMIN_LOGIN,
            "VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "VESTIBULE_BOOTSTRAP_API_TOKEN": API_TOKEN,
            "VESTIBULE_LOG": "warn",
        }
    )
    env.update(extra_env or {})
    log = open(os.path.join(data_dir, "gateway.log"), "w")
    process = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vestibule exited early; see {data_dir}/gateway.log")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.read() == b"ok":
                    return Gateway(base, API_TOKEN, data_dir, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("vestibule did not become healthy within 30 s")


@pytest.fixture(scope="module")
def gateway():
    gw = start_gateway()
    try:
        yield gw
    finally:
        gw.process.terminate()
        try:
            gw.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            gw.process.kill()
