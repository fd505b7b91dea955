"""Vertex AI: where a provider's requests go, and the OAuth access token a service account obtains for them.

As claude-code-router's `vertex-gemini` transformer: project and location come from the transformer's options
(`["vertex-gemini", {"project", "location", "credentials"}]`) or from GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION
and GOOGLE_APPLICATION_CREDENTIALS; an api_base_url that already holds the publisher-models path is used as it
is. Auth is a service account's token (a JWT signed with the key in its JSON file, exchanged at the file's
token_uri, cached until shortly before it expires, refreshed by one request at a time) or, with `api_key` set
and no credentials file in the options, the key itself (Vertex express mode).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import orjson

from router import redact
from router.config.schema import ProviderConfig
from router.wire.errors import MissingCredential, UpstreamUnavailable

if TYPE_CHECKING:
    from router.providers.provider import Provider

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_LOCATION = "us-central1"  # claude-code-router's default
_MODELS_PATH = "/publishers/google/models"
_REFRESH_MARGIN_S = 120  # a token this close to expiry is replaced before use
_INSTALL = "pip install 'ccr[vertex]'"


@dataclass(frozen=True, slots=True)
class VertexSettings:
    base: str | None  # ".../publishers/google/models/", None when it cannot be known (see `problem`)
    credentials: str | None  # the service-account file to sign with; None: the api_key is sent
    problem: str | None = None


def _option(options: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = options.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _models_base(url: str) -> str | None:
    """The configured URL up to and including .../publishers/google/models/, if it holds that path."""
    parts = urlsplit(url)
    at = parts.path.find(_MODELS_PATH)
    if at < 0:
        return None
    return urlunsplit(parts._replace(path=parts.path[:at + len(_MODELS_PATH)] + "/", query="", fragment=""))


def _project_of(path: str | None) -> str | None:
    if not path:
        return None
    try:
        value = json.loads(Path(path).expanduser().read_text(encoding="utf-8")).get("project_id")
    except (OSError, ValueError, AttributeError):
        return None  # the token source reports the file's problem, with its path, on first use
    return value if isinstance(value, str) and value else None


def vertex_settings(cfg: ProviderConfig, env: dict[str, str] | None = None) -> VertexSettings:
    env = dict(os.environ) if env is None else env
    options: dict[str, Any] = {}
    for use in cfg.transformers:  # a preset's bare entry and the config's own, with options, both count
        if use.name == "vertex-gemini":
            options = {**options, **use.options}
    explicit = _option(options, "credentials", "keyFile", "keyFilename")
    credentials = explicit or (None if cfg.api_key else env.get("GOOGLE_APPLICATION_CREDENTIALS") or None)
    base = _models_base(cfg.api_base_url)
    if base is not None:
        return VertexSettings(base, credentials)
    project = (_option(options, "project", "projectId", "project_id") or env.get("GOOGLE_CLOUD_PROJECT")
               or _project_of(credentials))
    location = _option(options, "location", "region") or env.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION
    if project:
        host = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
        return VertexSettings(f"https://{host}/v1/projects/{project}/locations/{location}{_MODELS_PATH}/",
                              credentials)
    if cfg.api_key and not credentials:  # express mode: a key, no project
        return VertexSettings(f"https://aiplatform.googleapis.com/v1{_MODELS_PATH}/", None)
    return VertexSettings(None, credentials, problem=(
        f"provider '{cfg.name}' uses Vertex AI but no Google Cloud project is known: set \"project\" (and "
        "\"location\") in its vertex-gemini transformer options, or GOOGLE_CLOUD_PROJECT, or point "
        "\"credentials\" / GOOGLE_APPLICATION_CREDENTIALS at a service-account file (or give an api_key for "
        "Vertex express mode)"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def signed_jwt(account: dict[str, Any], now: float) -> str:
    """The assertion Google's token endpoint takes for a service account (RS256)."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:
        raise MissingCredential("Vertex AI service-account credentials need the `cryptography` package: "
                                f"{_INSTALL}, then `ccr restart`") from None
    header = {"alg": "RS256", "typ": "JWT"}
    if isinstance(account.get("private_key_id"), str):
        header["kid"] = account["private_key_id"]
    claims = {"iss": account["client_email"], "scope": SCOPE, "aud": account["token_uri"],
              "iat": int(now), "exp": int(now) + 3600}
    signing_input = _b64(orjson.dumps(header)) + "." + _b64(orjson.dumps(claims))
    key = serialization.load_pem_private_key(account["private_key"].encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MissingCredential("the service-account key is not an RSA key")
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(signature)


class ServiceAccountToken:
    """`Authorization: Bearer` for a service account, cached until shortly before expiry. Concurrent requests
    that find it stale wait for one refresh instead of each starting their own."""

    def __init__(self, path: str, provider: Provider) -> None:
        self.path = path
        # the path is named in errors by its file name: as a credentials option it counts as a secret, and the
        # redaction of secrets would mask it whole
        self.name = Path(path).name
        self.provider = provider
        self.token: str | None = None
        self.expires = 0.0  # monotonic
        self.refreshes = 0
        self._lock: asyncio.Lock | None = None
        self._account: dict[str, Any] | None = None

    async def headers(self) -> dict[str, str]:
        if self.token is None or time.monotonic() >= self.expires - _REFRESH_MARGIN_S:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self.token is None or time.monotonic() >= self.expires - _REFRESH_MARGIN_S:
                    await self._refresh()
        assert self.token is not None
        return {"authorization": f"Bearer {self.token}"}

    def _load(self) -> dict[str, Any]:
        if self._account is None:
            where = f"the Vertex AI credentials file {self.name} (provider '{self.provider.name}')"
            try:
                account = json.loads(Path(self.path).expanduser().read_text(encoding="utf-8"))
            except OSError as exc:
                raise MissingCredential(f"cannot read {where}: {exc.strerror or exc}") from None
            except ValueError:
                raise MissingCredential(f"{where} is not JSON; download a service-account key file again") \
                    from None
            missing = [k for k in ("client_email", "private_key", "token_uri")
                       if not isinstance(account, dict) or not isinstance(account.get(k), str)]
            if missing:
                raise MissingCredential(f"{where} lacks {', '.join(missing)}: it must be a service-account key "
                                        "(type service_account), not a user credential")
            self._account = account
        return self._account

    async def _refresh(self) -> None:
        import aiohttp

        account = self._load()
        try:
            assertion = signed_jwt(account, time.time())
        except (ValueError, TypeError):
            raise MissingCredential(f"the private key in {self.name} cannot be read; download a service-account "
                                    "key file again") from None
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        uri = account["token_uri"]
        try:
            async with self.provider.session().post(uri, data=form, proxy=self.provider.proxy_url,
                                                    timeout=aiohttp.ClientTimeout(total=30)) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamUnavailable(f"cannot reach Google's token endpoint {uri} for provider "
                                      f"'{self.provider.name}': {type(exc).__name__}") from None
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        token = answer.get("access_token")
        if status != 200 or not isinstance(token, str) or not token:
            why = answer.get("error_description") or answer.get("error") or raw[:200].decode("utf-8", "replace")
            raise MissingCredential(f"Google refused the service account in {self.name} (provider "
                                    f"'{self.provider.name}', HTTP {status}): {why} — check that the key is "
                                    "still active and this machine's clock is right")
        redact.register([token])  # never in a log line or an error message
        lifetime = answer.get("expires_in")
        lifetime = lifetime if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) else 3600
        self.token = token
        self.expires = time.monotonic() + float(lifetime)
        self.refreshes += 1
