"""Start the test OpenID Connect provider (tests/identity/provider, django-oauth-toolkit) as a separate
process on a free loopback port, and point the suite's OIDC settings at it.

The provider gets a fresh RSA signing key, a fresh SQLite database and a seed of users: `sam` (groups
itsm-agents and network-team: an agent) and `rita` (no mapped group: a requester), both with password
`idp-password`. `configure(settings)` sets every OIDC_* setting as an operator would from the environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "itsm-suite"
CLIENT_SECRET = "itsm-client-secret-for-tests"
PASSWORD = "idp-password"
USERS = [
    {
        "username": "sam",
        "email": "sam@example.org",
        "password": PASSWORD,
        "first_name": "Sam",
        "last_name": "Sato",
        "groups": ["itsm-agents", "network-team"],
    },
    {
        "username": "rita",
        "email": "rita@example.org",
        "password": PASSWORD,
        "first_name": "Rita",
        "last_name": "Ruiz",
    },
]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OidcProvider:
    def __init__(
        self, redirect_uris: list[str], post_logout_redirect_uris: list[str] = (), code_ttl: int = 60
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.issuer = f"{self.url}/o"
        self.directory = Path(tempfile.mkdtemp(prefix="itsm-oidc-"))
        self.redirect_uris = redirect_uris
        self.post_logout_redirect_uris = list(post_logout_redirect_uris)
        self.code_ttl = code_ttl
        self.process: subprocess.Popen | None = None

    def start(self) -> OidcProvider:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        seed = self.directory / "seed.json"
        seed.write_text(
            json.dumps(
                {
                    "users": USERS,
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": self.redirect_uris,
                    "post_logout_redirect_uris": self.post_logout_redirect_uris,
                }
            )
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.identity.provider.settings",
            "PROVIDER_DB": str(self.directory / "provider.sqlite3"),
            "PROVIDER_RSA_KEY": pem,
            "PROVIDER_ISSUER": self.issuer,
            "PROVIDER_CODE_TTL": str(self.code_ttl),
        }
        env.pop("DATABASE_URL", None)
        with open(self.directory / "provider.log", "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.identity.provider.serve", str(self.port), str(seed)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(httpx.HTTPError):  # not listening yet: ask again
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                    return self
            time.sleep(0.2)
        output = (self.directory / "provider.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"the OIDC provider did not start on {self.url}:\n{output}")

    def discovery(self) -> dict:
        return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5).json()

    def configure(self, settings, *, name: str = "Example IdP") -> None:
        """The suite's OIDC settings for this provider, from its discovery document."""
        found = self.discovery()
        settings.OIDC_PROVIDER_NAME = name
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_RP_SIGN_ALGO = "RS256"
        settings.OIDC_RP_SCOPES = "openid email profile"
        settings.OIDC_OP_ISSUER = found["issuer"]
        settings.OIDC_OP_AUTHORIZATION_ENDPOINT = found["authorization_endpoint"]
        settings.OIDC_OP_TOKEN_ENDPOINT = found["token_endpoint"]
        settings.OIDC_OP_USER_ENDPOINT = found["userinfo_endpoint"]
        settings.OIDC_OP_JWKS_ENDPOINT = found["jwks_uri"]
        settings.OIDC_OP_END_SESSION_ENDPOINT = found.get("end_session_endpoint", "")
        settings.IDENTITY_ROLE_MAP = {"itsm-agents": "agent", "itsm-admins": "admin"}
        settings.IDENTITY_GROUP_MAP = {"network-team": "network"}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
