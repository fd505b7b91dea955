"""Vertex AI through ccr: the endpoint from project and location (or the configured URL), and a service
account's access token obtained from a scripted token endpoint on 127.0.0.1 that verifies the JWT's RS256
signature and claims the way Google's does. The token is cached, refreshed before expiry, fetched once for
concurrent requests, and never logged."""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from router.config import parse_config
from router.redact import redact
from router.translate.gemini.vertex import SCOPE, signed_jwt, vertex_settings
from router.wire.errors import MissingCredential
from tests.support.gemini_upstream import GeminiAPI, response, stream, usage, whole
from tests.support.router import RouterServer
from tests.support.upstream import Received, Reply, ScriptedUpstream

MakeRouter = Callable[[dict[str, Any]], RouterServer]
VERTEX_PATH = "/v1/projects/proj-1/locations/us-central1/publishers/google/models/"
BODY = {"model": "vx,gemini-3-pro-preview", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenServer:
    """Google's OAuth token endpoint for service accounts, as far as ccr meets it."""

    def __init__(self, public_key: rsa.RSAPublicKey, email: str, uri: str) -> None:
        self.public_key, self.email, self.uri = public_key, email, uri
        self.issued: list[str] = []
        self.refused: list[str] = []
        self.lifetime = 3600
        self.delay_s = 0.0
        self.deny = False

    def __call__(self, req: Received) -> Reply:
        form = {k: v[0] for k, v in parse_qs(req.raw.decode()).items()}
        problem = self._check(form)
        if problem or self.deny:
            self.refused.append(problem or "denied")
            return Reply(status=400, body={"error": "invalid_grant", "error_description": problem or
                                           "Invalid JWT Signature."}, pause_before_s=self.delay_s)
        token = f"ya29.scripted-token-{len(self.issued) + 1}-{int(time.time() * 1000)}"
        self.issued.append(token)
        return Reply(body={"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"},
                     pause_before_s=self.delay_s)

    def _check(self, form: dict[str, str]) -> str | None:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return "Invalid grant_type"
        try:
            head, claims, signature = form["assertion"].split(".")
            self.public_key.verify(_unb64(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(),
                                   hashes.SHA256())
        except Exception:
            return "Invalid JWT Signature."
        header, body = json.loads(_unb64(head)), json.loads(_unb64(claims))
        now = time.time()
        if header.get("alg") != "RS256" or header.get("kid") != "key-id-1":
            return "Invalid JWT header"
        if body.get("iss") != self.email or body.get("aud") != self.uri or body.get("scope") != SCOPE:
            return "Invalid JWT claims"
        if not (now - 60 <= body["iat"] <= now + 60) or not 0 < body["exp"] - body["iat"] <= 3600:
            return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
        return None


class Vertex:
    """One scripted host: the token endpoint at /token, Vertex's models under VERTEX_PATH."""

    def __init__(self, upstream: ScriptedUpstream, tmp_path: Path) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.email = "ccr-test@proj-1.iam.gserviceaccount.com"
        self.token_uri = f"{upstream.url}/token"
        self.tokens = TokenServer(key.public_key(), self.email, self.token_uri)
        self.api = GeminiAPI(self._answer, key=None, bearer=lambda t: t in self.tokens.issued)
        self.credentials = tmp_path / "sa.json"
        self.credentials.write_text(json.dumps({
            "type": "service_account", "project_id": "proj-1", "private_key_id": "key-id-1",
            "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode(),
            "client_email": self.email, "client_id": "1", "token_uri": self.token_uri}))
        self.upstream = upstream
        upstream.script = lambda r: self.tokens(r) if r.path == "/token" else self.api(r)

    @staticmethod
    def _answer(call: Any) -> Reply:
        if call.method == "countTokens":
            return Reply(body={"totalTokens": 77})
        events = [response([{"text": "from vertex"}], "STOP", usage(100, 3, 0))]
        return stream(*events) if call.streamed else whole(*events)

    def config(self, **options: Any) -> dict[str, Any]:
        return {"Providers": [{"name": "vx", "api_base_url": self.upstream.url + VERTEX_PATH,
                               "models": ["gemini-3-pro-preview"],
                               "transformer": {"use": [["vertex-gemini", {"credentials": str(self.credentials),
                                                                          **options}]]}}],
                "Router": {"default": "vx,gemini-3-pro-preview"}, "retry": {"retries": 0}}


@pytest.fixture
def vertex(upstream: ScriptedUpstream, tmp_path: Path) -> Vertex:
    return Vertex(upstream, tmp_path)


def test_service_account_token_is_obtained_once_and_reused(vertex: Vertex, make_router: MakeRouter) -> None:
    router = make_router(vertex.config())
    for _ in range(3):
        resp = httpx.post(router.url + "/v1/messages", json=BODY, timeout=30)
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == [{"type": "text", "text": "from vertex"}]
    assert len(vertex.tokens.issued) == 1 and not vertex.tokens.refused
    calls = [r for r in vertex.upstream.requests if r.path != "/token"]
    assert [r.path for r in calls] == [VERTEX_PATH + "gemini-3-pro-preview:generateContent"] * 3
    assert all(r.headers["Authorization"] == f"Bearer {vertex.tokens.issued[0]}" for r in calls)
    assert redact(f"token {vertex.tokens.issued[0]}") == "token [redacted]"  # registered as a secret


def test_a_token_near_expiry_is_refreshed(vertex: Vertex, make_router: MakeRouter) -> None:
    vertex.tokens.lifetime = 100  # inside the refresh margin: stale as soon as it is issued
    router = make_router(vertex.config())
    for _ in range(2):
        assert httpx.post(router.url + "/v1/messages", json=BODY, timeout=30).status_code == 200
    assert len(vertex.tokens.issued) == 2
    assert vertex.api.calls[1].received.headers["Authorization"] == f"Bearer {vertex.tokens.issued[1]}"


def test_concurrent_requests_share_one_refresh(vertex: Vertex, make_router: MakeRouter) -> None:
    vertex.tokens.delay_s = 0.4
    router = make_router(vertex.config())
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: httpx.post(router.url + "/v1/messages", json=BODY, timeout=30).status_code,
                                 range(8)))
    assert statuses == [200] * 8
    assert len(vertex.tokens.issued) == 1


def test_a_refused_service_account_is_a_403_naming_the_file(vertex: Vertex, make_router: MakeRouter,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    vertex.tokens.deny = True
    router = make_router(vertex.config())
    resp = httpx.post(router.url + "/v1/messages", json=BODY, timeout=30)
    assert resp.status_code == 403
    message = resp.json()["error"]["message"]
    assert vertex.credentials.name in message and "Invalid JWT Signature." in message
    assert "BEGIN PRIVATE KEY" not in caplog.text + message


def test_count_tokens_on_vertex(vertex: Vertex, make_router: MakeRouter) -> None:
    router = make_router(vertex.config())
    resp = httpx.post(router.url + "/v1/messages/count_tokens", json={
        "model": "vx,gemini-3-pro-preview", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    assert resp.json() == {"input_tokens": 77}
    assert set(vertex.api.calls[0].body) == {"contents"}  # Vertex takes the counted fields themselves


def test_express_mode_sends_the_key(vertex: Vertex, make_router: MakeRouter) -> None:
    vertex.api.bearer, vertex.api.key = None, "vx-express-key"
    config = vertex.config()
    provider = config["Providers"][0]
    provider["api_key"] = "vx-express-key"
    provider["transformer"] = {"use": ["vertex-gemini"]}
    router = make_router(config)
    assert httpx.post(router.url + "/v1/messages", json=BODY, timeout=30).status_code == 200
    assert vertex.tokens.issued == []


def test_missing_cryptography_says_what_to_install(vertex: Vertex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives", None)
    with pytest.raises(MissingCredential) as info:
        signed_jwt(json.loads(vertex.credentials.read_text()), time.time())
    assert "pip install 'ccr[vertex]'" in info.value.message


SETTINGS = [
    ("options", {"project": "p", "location": "europe-west4"}, {}, None,
     "https://europe-west4-aiplatform.googleapis.com/v1/projects/p/locations/europe-west4/publishers/google/models/"),
    ("global", {"project": "p", "location": "global"}, {}, None,
     "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google/models/"),
    ("env", {}, {"GOOGLE_CLOUD_PROJECT": "envp", "GOOGLE_CLOUD_LOCATION": "us-east5"}, None,
     "https://us-east5-aiplatform.googleapis.com/v1/projects/envp/locations/us-east5/publishers/google/models/"),
    ("default location", {"project": "p"}, {}, None,
     "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/"),
    ("express", {}, {}, "key", "https://aiplatform.googleapis.com/v1/publishers/google/models/"),
    ("nothing", {}, {}, None, None),
]


@pytest.mark.parametrize(("case", "options", "env", "key", "base"), SETTINGS, ids=[s[0] for s in SETTINGS])
def test_vertex_endpoint(case: str, options: dict[str, Any], env: dict[str, str], key: str | None,
                         base: str | None) -> None:
    provider: dict[str, Any] = {"name": "vx", "api_base_url": "https://aiplatform.googleapis.com",
                                "models": ["gemini-2.5-pro"], "transformer": {"use": [["vertex-gemini", options]]}}
    if key:
        provider["api_key"] = key
    config = parse_config({"Providers": [provider], "Router": {"default": "vx,gemini-2.5-pro"}})
    settings = vertex_settings(config.providers["vx"], env)
    assert settings.base == base
    assert (settings.problem is not None) == (base is None)


def test_project_from_the_credentials_file(vertex: Vertex) -> None:
    provider = {"name": "vx", "api_base_url": "https://aiplatform.googleapis.com", "models": ["gemini-2.5-pro"],
                "transformer": {"use": ["vertex-gemini"]}}
    config = parse_config({"Providers": [provider], "Router": {"default": "vx,gemini-2.5-pro"}})
    settings = vertex_settings(config.providers["vx"], {"GOOGLE_APPLICATION_CREDENTIALS": str(vertex.credentials)})
    assert settings.credentials == str(vertex.credentials)
    assert settings.base is not None and "/projects/proj-1/locations/us-central1/" in settings.base


def test_no_project_is_a_clear_error(make_router: MakeRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(var, raising=False)
    router = make_router({"Providers": [{"name": "vx", "api_base_url": "https://aiplatform.googleapis.com",
                                         "models": ["gemini-3-pro-preview"], "transformer": {"use": ["vertex-gemini"]}}],
                          "Router": {"default": "vx,gemini-3-pro-preview"}})
    resp = httpx.post(router.url + "/v1/messages", json=BODY, timeout=30)
    assert resp.status_code == 403 and "GOOGLE_CLOUD_PROJECT" in resp.json()["error"]["message"]
