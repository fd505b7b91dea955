"""Load and validate config.json: claude-code-router's format unchanged, plus ccr's documented extensions.

Every problem is reported with its path in the file (`Providers[2].api_base_url: not a URL`); an invalid file
raises ConfigError listing all of them at once. Unknown keys become warnings.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from router import redact
from router.config import jsonc, presets
from router.config.catalog import TIER_NAMES, complete
from router.config.checks import Report, expect, is_local, is_url, number, type_name, unknown_keys
from router.config.ml import parse_ml
from router.config.routing import TASK_TYPES, check_target, parse_groups, parse_routing
from router.config.schema import (
    Capabilities,
    Config,
    ModelInfo,
    PluginSpec,
    Pricing,
    ProviderConfig,
    RouterConfig,
    TransformerUse,
    WireFormat,
)

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")

# claude-code-router keys that ccr accepts; those it does not act on yet are listed with the reason
_TOP_KEYS = {
    "Providers", "providers", "Router", "router", "APIKEY", "HOST", "PORT", "PROXY_URL", "LOG", "LOG_LEVEL",
    "API_TIMEOUT_MS", "NON_INTERACTIVE_MODE", "CLAUDE_PATH", "Aliases", "MAX_BODY_BYTES", "CUSTOM_ROUTER_PATH",
    "CUSTOM_ROUTER_TIMEOUT_MS", "ModelGroups", "routingRules", "fallback", "fallbackModel", "retry",
    "circuitBreaker", "healthCheck", "RouterMode", "Classifier", "Policy", "Budgets", "ALLOWED_ORIGINS",
    "ALLOWED_HOSTS", "plugins",
}
# protection the product documents describe and this version does not enforce: a config that asks for it is
# refused, so that nobody believes they are protected when they are not
_NOT_ENFORCED = {
    "security": "authentication, per-key rate limits and the rest of the `security` block are not enforced by this "
                "version of ccr",
    "rateLimit": "rate limits are not enforced by this version of ccr",
    "rateLimits": "rate limits are not enforced by this version of ccr",
    "authentication": "authentication beyond APIKEY is not enforced by this version of ccr",
}
_TOP_KEYS_IGNORED = {
    "transformers": "JavaScript transformer plugins cannot run in ccr; ignored (port them to Python `plugins`)",
    "StatusLine": "the status line is claude-code-router UI; ignored",
    "forceUseImageAgent": "ignored",
}
_ROUTER_KEYS = {
    "default": "default", "background": "background", "think": "think", "longContext": "long_context",
    "webSearch": "web_search", "image": "image",
}
_PROVIDER_KEYS = {"name", "api_base_url", "api_key", "models", "transformer", "preset"}
_MODEL_KEYS = {"name", "pricing", "context_window", "max_output_tokens", "capabilities", "tier", "tiers"}
_PRICING_KEYS = {"input", "output", "cache_read", "cache_write"}
_CAPABILITY_KEYS = {"tools", "vision", "reasoning"}

# transformer names from claude-code-router that ccr understands; the wire-format ones pick the translator
KNOWN_TRANSFORMERS = {
    "anthropic", "openai", "deepseek", "openrouter", "groq", "maxtoken", "maxcompletiontokens", "customparams",
    "sampling", "reasoning", "enhancetool", "cleancache", "streamoptions", "tooluse", "gemini", "vertex-gemini",
    "openai-responses", "openai-response",
} | presets.QUIRKS
_GEMINI = {"gemini", "vertex-gemini"}
_RESPONSES = {"openai-responses", "openai-response"}


class ConfigError(Exception):
    def __init__(self, path: str | None, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        where = f"{path}: " if path else ""
        super().__init__(f"{where}invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


def _interpolate(node: Any, path: str, rep: Report) -> Any:
    """Replace $VAR and ${VAR} in every string. An unset variable is left as written (a literal key may hold
    a `$`); when it is the whole value, it is remembered by path, so a request can name it."""
    if isinstance(node, str):
        if "$" not in node:
            return node
        whole = _VAR.fullmatch(node)
        if whole:
            name = whole.group(1) or whole.group(2)
            if name not in os.environ:
                rep.missing_vars[path] = name
                return node
            return os.environ[name]
        return _VAR.sub(lambda m: os.environ.get(m.group(1) or m.group(2), m.group(0)), node)
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else k, rep) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}[{i}]", rep) for i, v in enumerate(node)]
    return node


def _transformer_list(raw: Any, path: str, rep: Report) -> tuple[TransformerUse, ...]:
    if not expect(raw, list, path, "a list of transformer names", rep):
        return ()
    out: list[TransformerUse] = []
    for i, item in enumerate(raw):
        ipath = f"{path}[{i}]"
        name: Any
        options: Any = {}
        if isinstance(item, list) and item:
            name, options = item[0], (item[1] if len(item) > 1 else {})
        else:
            name = item
        if not isinstance(name, str):
            rep.error(ipath, 'must be a transformer name or ["name", {options}]')
            continue
        if not isinstance(options, dict):
            rep.error(f"{ipath}[1]", "transformer options must be an object")
            options = {}
        if name.lower() not in KNOWN_TRANSFORMERS:
            rep.warn(ipath, f"unknown transformer '{name}', ignored")
        out.append(TransformerUse(name.lower(), options))
    return tuple(out)


def _wire_format(url: str, transformers: tuple[TransformerUse, ...]) -> WireFormat:
    names = {t.name for t in transformers}
    if names & _GEMINI:
        return WireFormat.GEMINI
    if names & _RESPONSES:
        return WireFormat.OPENAI_RESPONSES
    if "anthropic" in names or urlsplit(url).path.rstrip("/").endswith("/v1/messages"):
        return WireFormat.ANTHROPIC
    return WireFormat.OPENAI_CHAT


def _model(raw: Any, path: str, rep: Report, local: bool = False) -> ModelInfo | None:
    """`local`: the provider runs on this machine or network (Ollama, vLLM): its models cost nothing unless
    priced, whatever the catalog says of a hosted model of the same name."""
    if isinstance(raw, str):
        if not raw:
            rep.error(path, "model name must not be empty")
            return None
        return complete(ModelInfo(name=raw), set(), local)
    if not isinstance(raw, dict):
        rep.error(path, f'must be a model name or an object with "name", got {type_name(raw)}')
        return None
    unknown_keys(raw, _MODEL_KEYS, path, rep)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        rep.error(f"{path}.name", "required: the model name the provider expects")
        return None
    pricing = None
    if "pricing" in raw and expect(raw["pricing"], dict, f"{path}.pricing", "an object", rep):
        p = raw["pricing"]
        unknown_keys(p, _PRICING_KEYS, f"{path}.pricing", rep)
        values = {k: number(p, k, f"{path}.pricing", rep) for k in _PRICING_KEYS}
        pricing = Pricing(**{k: float(v) for k, v in values.items() if v is not None})
    caps = Capabilities()
    caps_given: set[str] = set()
    if "capabilities" in raw and expect(raw["capabilities"], dict, f"{path}.capabilities", "an object", rep):
        c = raw["capabilities"]
        unknown_keys(c, _CAPABILITY_KEYS, f"{path}.capabilities", rep)
        flags: dict[str, bool] = {}
        for k in _CAPABILITY_KEYS & c.keys():
            if expect(c[k], bool, f"{path}.capabilities.{k}", "true or false", rep):
                flags[k] = c[k]
        caps = Capabilities(**flags)
        caps_given = set(flags)
    tiers: dict[str, int] = {}
    if "tiers" in raw and expect(raw["tiers"], dict, f"{path}.tiers", "an object of task type → tier", rep):
        for task, value in raw["tiers"].items():
            if task not in TASK_TYPES:
                rep.error(f"{path}.tiers.{task}", f"unknown task type; one of {', '.join(TASK_TYPES)}")
            elif (t := _tier(value, f"{path}.tiers.{task}", rep)) is not None:
                tiers[task] = t
    info = ModelInfo(
        name=name,
        pricing=pricing,
        context_window=number(raw, "context_window", path, rep, integer=True),
        max_output_tokens=number(raw, "max_output_tokens", path, rep, integer=True),
        capabilities=caps,
        capabilities_known="capabilities" in raw and "vision" in caps_given,
        tier=_tier(raw["tier"], f"{path}.tier", rep) if "tier" in raw else None,
        tiers=tiers,
    )
    return complete(info, {k for k in raw if k in _MODEL_KEYS}, local)


def _tier(value: Any, path: str, rep: Report) -> int | None:
    if value in TIER_NAMES:
        return TIER_NAMES[value]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3:
        return value
    rep.error(path, f'must be 1, 2 or 3 (or "small", "medium", "strong"), got {value!r}')
    return None


def _preset(raw: dict[str, Any], path: str, rep: Report) -> presets.Preset | None:
    name = raw.get("preset")
    if name is None:
        return None
    found = presets.find(name) if isinstance(name, str) else None
    if found is None:
        rep.error(f"{path}.preset", f"unknown preset {name!r}; ccr has: {', '.join(presets.PRESETS)}")
    return found


def _provider(raw: Any, path: str, rep: Report) -> ProviderConfig | None:
    if not expect(raw, dict, path, "an object", rep):
        return None
    unknown_keys(raw, _PROVIDER_KEYS, path, rep)
    ok = True
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        rep.error(f"{path}.name", "required: a short name used in \"provider,model\" values")
        ok = False
    elif "," in name:
        rep.error(f"{path}.name", "must not contain a comma")
        ok = False
    preset = _preset(raw, path, rep)
    url = raw.get("api_base_url") or (preset.base_url if preset else None)
    if preset and not url:
        rep.error(f"{path}.api_base_url", f"required with preset '{preset.name}': {preset.note}")
        ok = False
    elif not isinstance(url, str):
        rep.error(f"{path}.api_base_url", "required: the provider's endpoint URL (or a `preset`: "
                  + ", ".join(presets.PRESETS) + ")")
        ok = False
    elif not is_url(url):
        rep.error(f"{path}.api_base_url", f"not a URL: {url!r} (expected http:// or https://)")
        ok = False
    raw_key = raw.get("api_key")
    keys: list[str] = []
    missing_var = None
    if raw_key in (None, "") and preset and preset.key_env:  # the preset's variable, as its SDK would read it
        raw_key = os.environ.get(preset.key_env)
        missing_var = None if raw_key else preset.key_env
    # ccr: a list of keys makes one deployment per key (balanced, and failed over)
    for kpath, key in ([(f"{path}.api_key", raw_key)] if not isinstance(raw_key, list) else
                       [(f"{path}.api_key[{i}]", k) for i, k in enumerate(raw_key)]):
        if key is None or key == "":
            continue
        if not expect(key, str, kpath, "a string (or a list of strings)", rep):
            ok = False
        elif kpath in rep.missing_vars:
            missing_var = missing_var or rep.missing_vars[kpath]
            rep.warn(kpath, f"environment variable {rep.missing_vars.pop(kpath)} is not set; requests with "
                     "this key will fail until it is")
        else:
            keys.append(key)
    api_key = keys[0] if keys else None
    if keys:
        missing_var = None
    elif preset and missing_var == preset.key_env:
        rep.warn(f"{path}.api_key", f"not given, and {preset.key_env} (where preset '{preset.name}' reads it) is not "
                 "set; requests to this provider fail until it is")
    models: dict[str, ModelInfo] = {}
    raw_models = raw.get("models")
    if not isinstance(raw_models, list) or not raw_models:
        rep.error(f"{path}.models", "required: a non-empty list of model names")
        ok = False
    else:
        for i, m in enumerate(raw_models):
            info = _model(m, f"{path}.models[{i}]", rep, local=isinstance(url, str) and is_local(url))
            if info is None:
                ok = False
            elif info.name in models:
                rep.error(f"{path}.models[{i}]", f"duplicate model '{info.name}'")
                ok = False
            else:
                models[info.name] = info
    transformers: tuple[TransformerUse, ...] = ()
    per_model: dict[str, tuple[TransformerUse, ...]] = {}
    t = raw.get("transformer")
    if t is not None and expect(t, dict, f"{path}.transformer", "an object", rep):
        for key, value in t.items():
            tpath = f"{path}.transformer.{key}"
            if key == "use":
                transformers = _transformer_list(value, tpath, rep)
            elif isinstance(value, dict):
                if key not in models:
                    rep.warn(tpath, f"transformer settings for '{key}', which is not in models")
                unknown_keys(value, {"use"}, tpath, rep)
                per_model[key] = _transformer_list(value.get("use", []), f"{tpath}.use", rep)
            else:
                rep.error(tpath, 'must be {"use": [...]} for the model of that name')
    if not ok:
        return None
    assert isinstance(name, str) and isinstance(url, str)
    if preset:
        transformers = tuple(TransformerUse(t) for t in preset.transformers) + transformers
    wire = _wire_format(url, transformers)
    return ProviderConfig(
        name=name, api_base_url=url, wire=wire, api_key=api_key, missing_key_var=missing_var,
        models=models, transformers=transformers, model_transformers=per_model, api_keys=tuple(keys),
    )


def parse_config(data: Any, path: str | None = None) -> Config:
    rep = Report()
    if not isinstance(data, dict):
        raise ConfigError(path, [f"the file must hold a JSON object, got {type_name(data)}"])
    data = _interpolate(data, "", rep)
    for key in data:
        if key in _NOT_ENFORCED:
            rep.error(key, f"{_NOT_ENFORCED[key]}; the config is refused rather than leave you unprotected. Remove "
                      "the block; APIKEY (one key that every client must send) is what ccr enforces today.")
        elif key in _TOP_KEYS_IGNORED:
            rep.warn(key, _TOP_KEYS_IGNORED[key])
        elif key not in _TOP_KEYS:
            rep.warn(key, "unknown key, ignored")

    pkey = "Providers" if "Providers" in data else "providers"
    providers: dict[str, ProviderConfig] = {}
    raw_providers = data.get(pkey, [])
    if expect(raw_providers, list, pkey, "a list", rep):
        for i, rp in enumerate(raw_providers):
            p = _provider(rp, f"{pkey}[{i}]", rep)
            if p is None:
                continue
            if p.name in providers:
                rep.error(f"{pkey}[{i}].name", f"duplicate provider name '{p.name}'")
                continue
            providers[p.name] = p

    groups = parse_groups(data.get("ModelGroups"), providers, rep)
    rkey = "Router" if "Router" in data else "router"
    router = RouterConfig()
    raw_router = data.get(rkey, {})
    if not expect(raw_router, dict, rkey, "an object", rep):
        raw_router = {}
    unknown_keys(raw_router, set(_ROUTER_KEYS) | {"longContextThreshold", "fallback"}, rkey, rep)
    values: dict[str, Any] = {
        attr: check_target(raw_router.get(key), f"{rkey}.{key}", providers, groups, rep)
        for key, attr in _ROUTER_KEYS.items()
    }
    threshold = number(raw_router, "longContextThreshold", rkey, rep, integer=True)
    router = RouterConfig(**values, long_context_threshold=threshold or 60000)

    aliases: dict[str, str] = {}
    raw_aliases = data.get("Aliases", {})
    if expect(raw_aliases, dict, "Aliases", "an object", rep):
        for alias, value in raw_aliases.items():
            target = check_target(value, f"Aliases.{alias}", providers, groups, rep)
            if target:
                aliases[alias] = target
    routing = parse_routing(data, raw_router, providers, groups, rep, _base_dir(path))
    classifier, policy, budgets = parse_ml(data, providers, groups, rep)

    apikey = data.get("APIKEY") or None
    if apikey is not None and expect(apikey, str, "APIKEY", "a string", rep) and "APIKEY" in rep.missing_vars:
        rep.error("APIKEY", f"environment variable {rep.missing_vars.pop('APIKEY')} is not set")
    elif apikey is None:
        rep.warn("APIKEY", "not set: any program on this machine can use the router and your provider keys. "
                 "`ccr config apikey` adds a random one (`ccr code` and `ccr activate` pass it on).")
    host = data.get("HOST", "127.0.0.1")
    expect(host, str, "HOST", "a string", rep)
    allowed_origins = _strings(data, "ALLOWED_ORIGINS", _origin_problem, rep)
    allowed_hosts = _strings(data, "ALLOWED_HOSTS", _host_problem, rep)
    port = data.get("PORT", 3456)
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if expect(port, int, "PORT", "an integer", rep) and not 0 < port < 65536:
        rep.error("PORT", f"must be between 1 and 65535, got {port}")
    proxy_url = data.get("PROXY_URL") or None
    if proxy_url is not None and expect(proxy_url, str, "PROXY_URL", "a string", rep) and not is_url(proxy_url):
        rep.error("PROXY_URL", f"not a URL: {proxy_url!r}")
    log = data.get("LOG", True)
    expect(log, bool, "LOG", "true or false", rep)
    log_level = str(data.get("LOG_LEVEL", "info")).lower()
    if log_level not in ("debug", "info", "warning", "warn", "error", "critical", "fatal", "trace"):
        rep.error("LOG_LEVEL", f"unknown level {log_level!r} (use debug, info, warning or error)")
    timeout = number(data, "API_TIMEOUT_MS", "", rep, integer=True) or 600_000
    max_body = number(data, "MAX_BODY_BYTES", "", rep, integer=True) or 32 * 1024 * 1024

    plugins = _plugins(data.get("plugins"), _base_dir(path), rep)

    for where, name in rep.missing_vars.items():
        rep.warn(where, f"environment variable {name} is not set; the value is used as written")
    if rep.errors:
        raise ConfigError(path, rep.errors)
    config = Config(
        providers=providers, router=router, aliases=aliases, apikey=apikey, host=host, port=port,
        proxy_url=proxy_url, log=log, routing=routing, log_level={"warn": "warning", "fatal": "critical", "trace": "debug"}.get(
            log_level, log_level), api_timeout_ms=timeout, max_body_bytes=max_body, path=path,
        warnings=tuple(rep.warnings), classifier=classifier, policy=policy, budgets=budgets,
        allowed_origins=tuple(o.lower().rstrip("/") for o in allowed_origins),
        allowed_hosts=tuple(h.lower() for h in allowed_hosts), plugins=plugins,
    )
    redact.register(config.secrets())  # whatever this process logs or answers from now on
    return config


def _plugins(raw: Any, base: Path, rep: Report) -> tuple[PluginSpec, ...]:
    """`plugins`: paths of Python files (relative to the config file's folder), or {"path", "options"}."""
    if raw is None or not expect(raw, list, "plugins", 'a list of paths or {"path": ..., "options": {...}}', rep):
        return ()
    out = []
    for i, item in enumerate(raw):
        where = f"plugins[{i}]"
        entry = {"path": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            rep.error(where, 'must be a path or {"path": "plugin.py", "options": {...}}')
            continue
        unknown_keys(entry, {"path", "options"}, where, rep)
        options = entry.get("options", {})
        if not expect(options, dict, f"{where}.options", "an object", rep):
            continue
        file = base / Path(entry["path"]).expanduser()
        if file.suffix != ".py":
            rep.error(where, f"{entry['path']}: ccr runs Python plugins (a .py file defining on_request, "
                      "on_response or on_error); claude-code-router's JavaScript plugins must be ported")
        elif not file.is_file():
            rep.error(where, f"{entry['path']}: no such file ({file}; a relative path is read from the config "
                      "file's folder)")
        else:
            out.append(PluginSpec(str(file.resolve()), options))
    return tuple(out)


def _base_dir(path: str | None) -> Path:
    """Where relative paths in the config point from: the config file's own folder, not the working directory."""
    if path and not path.startswith("<"):
        return Path(path).expanduser().resolve().parent
    return Path.cwd()


def _strings(data: dict[str, Any], key: str, problem: Any, rep: Report) -> list[str]:
    raw = data.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        rep.error(key, "must be a list of strings")
        return []
    out = []
    for i, value in enumerate(raw):
        why = problem(value)
        if why:
            rep.error(f"{key}[{i}]", why)
        else:
            out.append(value)
    return out


def _origin_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        return f"{value!r} is not an origin: write scheme://host[:port], as a browser sends it (http://localhost:5173)"
    return None


def _host_problem(value: str) -> str | None:
    if not value or "/" in value or " " in value:
        return f"{value!r} is not a host name: write the name clients use in their URL (router.example.internal)"
    return None


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), ["file not found; run `ccr start` once to create an example"]) from None
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from None
    try:
        data = jsonc.loads(text)
    except jsonc.JSONCError as exc:
        raise ConfigError(str(path), [f"not valid JSON at {exc}"]) from None
    return parse_config(data, str(path))
