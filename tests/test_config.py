"""config.json: claude-code-router's format unchanged, ccr's extensions, and path-precise validation."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from router.config import ConfigError, WireFormat, load_config, parse_config
from router.config.example import EXAMPLE_CONFIG, example_config
from router.config.jsonc import loads
from router.providers.provider import Provider
from router.translate.openai_chat.adapter import options

FIXTURE = Path(__file__).parent / "fixtures" / "config" / "claude_code_router.json"


def base() -> dict[str, Any]:
    return {"Providers": [{"name": "a", "api_base_url": "https://a.test/v1/chat/completions", "api_key": "k",
                           "models": ["m1"]}], "Router": {"default": "a,m1"}}


def test_claude_code_router_config_loads_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_KEY", "sk-or-1")
    monkeypatch.setenv("DEEPSEEK_KEY", "sk-ds-1")
    monkeypatch.delenv("ZAI_KEY", raising=False)
    config = load_config(FIXTURE)
    p = config.providers
    assert p["openrouter"].api_key == "sk-or-1" and p["deepseek"].api_key == "sk-ds-1"
    assert p["zai"].api_key is None and p["zai"].missing_key_var == "ZAI_KEY"
    assert p["zai"].wire is WireFormat.ANTHROPIC and p["deepseek"].wire is WireFormat.OPENAI_CHAT
    assert [t.name for t in p["deepseek"].transformers_for("deepseek-chat")] == ["deepseek", "tooluse"]
    assert p["modelscope"].transformers[0].options == {"max_tokens": 65536}
    assert config.router.default == "deepseek,deepseek-chat" and config.router.long_context_threshold == 60000
    assert config.apikey == "your-secret-key" and config.proxy_url == "http://127.0.0.1:7890"
    assert any("ZAI_KEY is not set" in w for w in config.warnings)
    assert options(Provider(p["modelscope"], config), "Qwen/Qwen3-Coder-480B-A35B-Instruct").max_output_tokens == 65536


def test_example_config_is_valid_and_commented() -> None:
    assert "//" in EXAMPLE_CONFIG
    first, second = parse_config(loads(example_config())), parse_config(loads(example_config()))
    assert first.apikey and second.apikey and first.apikey != second.apikey  # a new random key each time
    assert not any("APIKEY" in w for w in first.warnings)
    config = parse_config(loads(EXAMPLE_CONFIG))
    assert config.router.default == "deepseek,deepseek-chat"
    assert config.aliases["opus"] == "deepseek,deepseek-reasoner"
    info = config.providers["deepseek"].models["deepseek-chat"]
    assert info.pricing is not None and info.pricing.output == 0.42 and info.max_output_tokens == 8192


def test_comments_do_not_touch_strings() -> None:
    assert loads('{"u": "http://x//y", /* c */ "v": [1, 2,], // end\n}') == {"u": "http://x//y", "v": [1, 2]}


def mutate(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(base())
    node: Any = data
    keys = path.replace("]", "").replace("[", ".").split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()

ERRORS = [
    ("Providers[0].api_base_url", "ftp:/nope", "Providers[0].api_base_url: not a URL"),
    ("Providers[0].api_base_url", _DELETE, "Providers[0].api_base_url: required"),
    ("Providers[0].models", [], "Providers[0].models: required"),
    ("Providers[0].models", ["m1", "m1"], "Providers[0].models[1]: duplicate model 'm1'"),
    ("Providers[0].models", [{"name": "m1", "context_window": "big"}], "Providers[0].models[0].context_window: must be an integer"),
    ("Providers[0].models", [{"name": "m1", "pricing": {"input": -1}}], "Providers[0].models[0].pricing.input: must be positive"),
    ("Providers[0].models", [{"name": "m1", "capabilities": {"vision": "yes"}}], "Providers[0].models[0].capabilities.vision: must be true or false"),
    ("Providers[0].name", "a,b", "Providers[0].name: must not contain a comma"),
    ("Router.default", "b,m1", "Router.default: provider 'b' is not configured (configured: a)"),
    ("Router.think", "just-a-model", 'Router.think: must be "provider,model"'),
    ("PORT", 70000, "PORT: must be between 1 and 65535"),
    ("LOG_LEVEL", "loud", "LOG_LEVEL: unknown level"),
    ("Aliases", {"opus": "zz,top"}, "Aliases.opus: provider 'zz' is not configured"),
]


@pytest.mark.parametrize(("path", "value", "message"), ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_problems_are_reported_with_their_path(path: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(mutate(path, value))
    assert any(message in p for p in info.value.problems), info.value.problems


def test_all_problems_reported_at_once() -> None:
    data = base()
    data["Providers"][0]["api_base_url"] = "nope"
    data["PORT"] = 0
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert len(info.value.problems) >= 2


def test_unknown_keys_are_warnings() -> None:
    data = base()
    data["Colour"] = "blue"
    data["Providers"][0]["flavour"] = 1
    warnings = parse_config(data).warnings
    assert "Colour: unknown key, ignored" in warnings
    assert "Providers[0].flavour: unknown key, ignored" in warnings


def test_invalid_json_reports_line(tmp_path: Path) -> None:
    f = tmp_path / "config.json"
    f.write_text('{\n  "PORT": 3456\n  "HOST": "x"\n}')
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert "line 3" in info.value.problems[0]


@pytest.mark.parametrize(("url", "transformers", "wire", "endpoint"), [
    ("https://api.deepseek.com/chat/completions", [], WireFormat.OPENAI_CHAT, "https://api.deepseek.com/chat/completions"),
    ("https://api.x.test/v1", [], WireFormat.OPENAI_CHAT, "https://api.x.test/v1/chat/completions"),
    ("https://api.anthropic.com/v1/messages", [], WireFormat.ANTHROPIC, "https://api.anthropic.com/v1/messages"),
    ("https://api.moonshot.ai/anthropic", ["anthropic"], WireFormat.ANTHROPIC,
     "https://api.moonshot.ai/anthropic/v1/messages"),
    ("https://x.openai.azure.com/openai/deployments/d?api-version=2025-01-01", [], WireFormat.OPENAI_CHAT,
     "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2025-01-01"),
    ("https://gw.test/v1/messages?beta=true", [], WireFormat.ANTHROPIC, "https://gw.test/v1/messages?beta=true"),
    ("https://generativelanguage.googleapis.com/v1beta/models/", ["gemini"], WireFormat.GEMINI,
     "https://generativelanguage.googleapis.com/v1beta/models/"),
    ("https://generativelanguage.googleapis.com/v1beta", ["gemini"], WireFormat.GEMINI,
     "https://generativelanguage.googleapis.com/v1beta/models/"),
])
def test_wire_format_and_endpoint(url: str, transformers: list[str], wire: WireFormat, endpoint: str) -> None:
    data = base()
    data["Providers"][0]["api_base_url"] = url
    if transformers:
        data["Providers"][0]["transformer"] = {"use": transformers}
    config = parse_config(data)
    assert config.providers["a"].wire is wire
    assert Provider(config.providers["a"], config).url == endpoint


GEMINI_CONFIG = """{
  "Providers": [
    {
      "name": "gemini",
      // IMPORTANT: api_base_url must be a complete (full) URL.
      "api_base_url": "https://generativelanguage.googleapis.com/v1beta/models/",
      "api_key": "$GEMINI_API_KEY",
      "models": ["gemini-2.5-flash", "gemini-2.5-pro"],
      "transformer": {"use": ["gemini"]}
    },
    {
      "name": "vertex",
      "api_base_url": "https://us-central1-aiplatform.googleapis.com",
      "models": ["gemini-3-pro-preview"],
      "transformer": {"use": [["vertex-gemini", {"project": "my-proj", "location": "global",
                                                 "credentials": "/secrets/sa.json"}]]}
    }
  ],
  "Router": {"default": "gemini,gemini-2.5-flash", "think": "vertex,gemini-3-pro-preview"}
}"""


def test_gemini_and_vertex_configs_load_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-1234")
    config = parse_config(loads(GEMINI_CONFIG))
    gemini, vertex = config.providers["gemini"], config.providers["vertex"]
    assert gemini.wire is WireFormat.GEMINI and vertex.wire is WireFormat.GEMINI
    assert gemini.api_key == "AIza-test-key-1234" and all("APIKEY" in w for w in config.warnings)
    assert Provider(gemini, config).url == "https://generativelanguage.googleapis.com/v1beta/models/"
    v = Provider(vertex, config)
    assert v.url == ("https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global/publishers/google/"
                     "models/")
    assert v.credentials is not None and v.host == "aiplatform.googleapis.com"


def test_fixture_is_plain_json() -> None:
    json.loads(FIXTURE.read_text())  # claude-code-router's own parser must read it too


def test_interpolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCR_T_HOST", "gw.test")
    monkeypatch.delenv("cdef", raising=False)
    monkeypatch.delenv("CCR_T_UNSET", raising=False)
    data = base()
    data["Providers"][0]["api_base_url"] = "https://${CCR_T_HOST}/v1"
    data["Providers"][0]["api_key"] = "sk-ab$cdef"  # a literal key holding a $ stays as it is
    data["Providers"].append({**base()["Providers"][0], "name": "b", "api_key": "${CCR_T_UNSET}"})
    config = parse_config(data)
    assert config.providers["a"].api_base_url == "https://gw.test/v1"
    assert config.providers["a"].api_key == "sk-ab$cdef" and config.providers["a"].missing_key_var is None
    assert config.providers["b"].api_key is None and config.providers["b"].missing_key_var == "CCR_T_UNSET"


@pytest.mark.parametrize("block", [
    {"security": {"authentication": {"enabled": True, "apiKeys": ["team-key"]}}},
    {"security": {"rateLimit": {"requestsPerMinute": 60}}},
    {"rateLimit": {"requestsPerMinute": 60}},
])
def test_protection_ccr_does_not_enforce_is_refused(block: dict[str, Any]) -> None:
    """Accepting it with a warning would leave users believing they are protected."""
    with pytest.raises(ConfigError) as err:
        parse_config({**base(), **block})
    key = next(iter(block))
    assert f"{key}: " in str(err.value) and "not enforced" in str(err.value) and "APIKEY" in str(err.value)


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("ALLOWED_ORIGINS", ["http://localhost:5173/app"], "not an origin"),
    ("ALLOWED_ORIGINS", ["localhost:5173"], "not an origin"),
    ("ALLOWED_ORIGINS", "http://localhost:5173", "must be a list of strings"),
    ("ALLOWED_HOSTS", ["http://router.internal"], "not a host name"),
])
def test_allowed_origins_and_hosts_are_checked(key: str, value: Any, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_config({**base(), key: value})


def test_allowed_origins_and_hosts_are_normalised() -> None:
    config = parse_config({**base(), "ALLOWED_ORIGINS": ["HTTP://LocalHost:5173/"], "ALLOWED_HOSTS": ["Router.Lan"]})
    assert config.allowed_origins == ("http://localhost:5173",) and config.allowed_hosts == ("router.lan",)


def test_missing_apikey_is_a_warning_with_the_fix() -> None:
    config = parse_config(base())
    assert any(w.startswith("APIKEY: not set") and "ccr config apikey" in w for w in config.warnings)


def test_custom_router_path_is_read_from_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "my_router.py").write_text("def route(request, context):\n    return None\n")
    (folder / "config.json").write_text(json.dumps({**base(), "CUSTOM_ROUTER_PATH": "my_router.py"}))
    monkeypatch.chdir(tmp_path)  # elsewhere: the old behaviour would look for ./my_router.py here
    config = load_config(folder / "config.json")
    assert config.routing.custom_router_path == str((folder / "my_router.py").resolve())


def test_secrets_of_a_config_are_all_found() -> None:
    config = parse_config({
        "Providers": [{"name": "a", "api_base_url": "https://a.test/v1/chat/completions", "api_key": ["key-one-1",
                       "key-two-2"], "models": ["m1"],
                       "transformer": {"use": [["customparams", {"headers": {"Authorization": "Bearer cp-secret-3"},
                                                                 "max_tokens": 5}]],
                                       "m1": {"use": [["customparams", {"api_key": "per-model-4"}]]}}}],
        "Router": {"default": "a,m1"}, "APIKEY": "client-key-5", "PROXY_URL": "http://u:proxy-pw-6@proxy.test:80",
    })
    assert set(config.secrets()) == {"key-one-1", "key-two-2", "Bearer cp-secret-3", "per-model-4", "client-key-5",
                                     "proxy-pw-6"}
