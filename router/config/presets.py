"""Provider presets: what a provider needs besides a key, as data. `{"name": "ds", "preset": "deepseek"}` is a
whole provider; anything the config states itself (api_base_url, transformer, models) wins over the preset.

A preset supplies the base URL, the environment variable its key is read from, the wire format, and a quirk
switch: a transformer name of the preset's own, which the wire format's adapter reads (the same name a config
can list in `transformer.use` for a provider ccr has no preset for). What each quirk changes is in
`QUIRKS` and in the README's table, which is written from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    base_url: str | None  # None: the config must give api_base_url (it holds the user's own resource name)
    key_env: str | None  # the environment variable read when the config gives no api_key
    transformers: tuple[str, ...] = ()  # wire format and quirk switches, before the config's own
    note: str = ""


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("openai", "https://api.openai.com/v1/chat/completions", "OPENAI_API_KEY", ("openai",),
           note="`max_completion_tokens`; reasoning models get no temperature/top_p (they refuse them)"),
    Preset("openai-responses", "https://api.openai.com/v1/responses", "OPENAI_API_KEY", ("openai-responses",),
           note="OpenAI's Responses API (reasoning and codex models)"),
    Preset("azure-openai", None, "AZURE_OPENAI_API_KEY", ("azure",),
           note="`api_base_url` is your resource's `https://<resource>.openai.azure.com/openai/v1` (the v1 API: the "
                "model is the deployment name) or a deployment URL with `?api-version=`; the key goes in `api-key`; "
                "`max_completion_tokens`"),
    Preset("deepseek", "https://api.deepseek.com/chat/completions", "DEEPSEEK_API_KEY", ("deepseek",),
           note="reasoning from `reasoning_content`, replayed to it on later turns (its thinking mode refuses a "
                "history without it); effort minimal/low → low, medium/high/xhigh → high, max → max"),
    Preset("openrouter", "https://openrouter.ai/api/v1/chat/completions", "OPENROUTER_API_KEY", ("openrouter",),
           note="`reasoning` / `reasoning_details` read and replayed with their signatures; `user` up to 128 chars"),
    Preset("groq", "https://api.groq.com/openai/v1/chat/completions", "GROQ_API_KEY", ("groq",),
           note="`$schema` removed from tool schemas (Groq refuses it)"),
    Preset("cerebras", "https://api.cerebras.ai/v1/chat/completions", "CEREBRAS_API_KEY", ("cerebras",),
           note="no `parallel_tool_calls` (Cerebras answers 400 to it)"),
    Preset("mistral", "https://api.mistral.ai/v1/chat/completions", "MISTRAL_API_KEY", ("mistral",),
           note="tool call ids become 9 letters and digits, the only ids Mistral takes back (the same id maps to "
                "the same short id in call and result); no `stream_options` or `user` (Mistral refuses fields it "
                "does not know, and reports stream usage unasked)"),
    Preset("xai", "https://api.x.ai/v1/chat/completions", "XAI_API_KEY", ("xai",),
           note="no `reasoning_effort` (Grok's reasoning models refuse it; reasoning is chosen by model) and no "
                "`stop` for reasoning models"),
    Preset("together", "https://api.together.xyz/v1/chat/completions", "TOGETHER_API_KEY"),
    Preset("fireworks", "https://api.fireworks.ai/inference/v1/chat/completions", "FIREWORKS_API_KEY",
           ("fireworks",), note="a request that is not streamed asks for at most 4096 tokens (Fireworks refuses more "
                                "without streaming)"),
    Preset("moonshot", "https://api.moonshot.ai/v1/chat/completions", "MOONSHOT_API_KEY", ("moonshot",),
           note="tool ids like `functions.Bash:0` encoded reversibly; reasoning models get their "
                "`reasoning_content` back on later turns"),
    Preset("dashscope", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1/chat/completions",
           "DASHSCOPE_API_KEY", ("dashscope",),
           note="thinking switched by `enable_thinking` (+ `thinking_budget`), never for a request that is not "
                "streamed (DashScope refuses it); reasoning from `reasoning_content`"),
    Preset("zai", "https://api.z.ai/api/paas/v4/chat/completions", "ZAI_API_KEY", ("zai",),
           note="thinking switched by `thinking.type` (enabled or disabled); reasoning from `reasoning_content`"),
    Preset("ollama", "http://127.0.0.1:11434/v1/chat/completions", None),
    Preset("lmstudio", "http://127.0.0.1:1234/v1/chat/completions", None),
    Preset("vllm", "http://127.0.0.1:8000/v1/chat/completions", None,
           note="the matched stop sequence is reported from vLLM's `stop_reason`"),
    Preset("llamacpp", "http://127.0.0.1:8080/v1/chat/completions", None),
    Preset("gemini", "https://generativelanguage.googleapis.com/v1beta/models/", "GEMINI_API_KEY", ("gemini",),
           note="Gemini's own API (see Gemini below)"),
    Preset("vertex", "https://aiplatform.googleapis.com/", None, ("vertex-gemini",),
           note="Gemini on Vertex AI: project, location and credentials as options of the `vertex-gemini` "
                "transformer or from GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION / GOOGLE_APPLICATION_CREDENTIALS"),
    Preset("anthropic", "https://api.anthropic.com/v1/messages", "ANTHROPIC_API_KEY", ("anthropic",),
           note="passthrough: the body goes as it came"),
)}

# other names users write for the same presets
ALIASES = {"kimi": "moonshot", "qwen": "dashscope", "glm": "zai", "z.ai": "zai", "llama.cpp": "llamacpp",
           "azure": "azure-openai", "grok": "xai", "google": "gemini", "vertex-ai": "vertex", "lm-studio": "lmstudio"}

# the quirk switches presets set (also accepted in `transformer.use`)
QUIRKS = frozenset(t for p in PRESETS.values() for t in p.transformers)


def find(name: str) -> Preset | None:
    key = name.strip().lower()
    return PRESETS.get(ALIASES.get(key, key))
