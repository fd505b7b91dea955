"""The commented config.json written on first start, with a random APIKEY. It must stay valid for
`parse_config`; a test checks it."""

import secrets

EXAMPLE_CONFIG = """\
{
  // ccr configuration. ccr reads claude-code-router's config.json format unchanged,
  // plus the extensions marked "ccr:" below. Comments and trailing commas are allowed.
  // "$VAR" or "${VAR}" anywhere is replaced by that environment variable.
  // Check it with `ccr config validate`; apply changes with `ccr restart`.

  "Providers": [
    {
      "name": "deepseek",
      // OpenAI Chat Completions endpoint (the wire format follows from the URL and transformers)
      "api_base_url": "https://api.deepseek.com/chat/completions",
      "api_key": "$DEEPSEEK_API_KEY",
      // ccr: a model may be a plain name or an object with prices (USD per million tokens),
      // limits and capabilities; max_tokens is clamped to max_output_tokens.
      "models": [
        {
          "name": "deepseek-chat",
          "pricing": {"input": 0.28, "output": 0.42, "cache_read": 0.028, "cache_write": 0},
          "context_window": 128000,
          "max_output_tokens": 8192,
          "capabilities": {"tools": true, "vision": false, "reasoning": false}
        },
        {
          "name": "deepseek-reasoner",
          "pricing": {"input": 0.28, "output": 0.42, "cache_read": 0.028, "cache_write": 0},
          "context_window": 128000,
          "max_output_tokens": 64000,
          "capabilities": {"tools": true, "vision": false, "reasoning": true}
        }
      ],
      "transformer": {"use": ["deepseek"]}
    },
    {
      "name": "openrouter",
      "api_base_url": "https://openrouter.ai/api/v1/chat/completions",
      "api_key": "$OPENROUTER_API_KEY",
      "models": ["anthropic/claude-sonnet-4.5", "qwen/qwen3-coder"],
      "transformer": {"use": ["openrouter"]}
    },
    {
      // Anthropic-compatible upstreams are passed through untranslated
      "name": "anthropic",
      "api_base_url": "https://api.anthropic.com/v1/messages",
      "api_key": "$ANTHROPIC_API_KEY",
      "models": ["claude-sonnet-4-5", "claude-haiku-4-5"],
      "transformer": {"use": ["anthropic"]}
    }
  ],

  // Values are "provider,model". `/model provider,model` inside Claude Code overrides them.
  "Router": {
    "default": "deepseek,deepseek-chat",
    "background": "deepseek,deepseek-chat",
    "think": "deepseek,deepseek-reasoner",
    "longContextThreshold": 60000
  },

  // If the chosen provider fails (after retries), these are tried in order. Per scenario, as in
  // claude-code-router v2; "fallbackModel" is the last resort for every route.
  "fallback": {"default": ["openrouter,qwen/qwen3-coder"]},

  // ccr: rules, highest priority first; see the README for every condition.
  // "routingRules": [
  //   {"name": "tiny-to-cheap", "priority": 5, "targetModel": "deepseek,deepseek-chat",
  //    "conditions": {"tokenCount": "tokenCount < 500"}}
  // ],

  // ccr: the classifier labels every user turn (task type, complexity, difficulty) for rules, the policy
  // and the log. The policy sends each turn to the cheapest model whose quality tier is enough for it
  // (models carry "tier": 1 small, 2 medium, 3 strong; ccr's catalog knows common ones). Budgets in USD.
  // "Classifier": {"enabled": true},
  // "Policy": {"enabled": true, "strongShare": 0.25},
  // "Budgets": {"daily": 20, "monthly": 300, "perKey": {"daily": 5}, "softLimit": 0.8, "onExceeded": "block"},

  // ccr: what Claude Code's model names resolve to (requests for claude-opus-*, claude-sonnet-*,
  // claude-haiku-* and the bare words opus / sonnet / haiku)
  "Aliases": {
    "opus": "deepseek,deepseek-reasoner",
    "sonnet": "deepseek,deepseek-chat",
    "haiku": "deepseek,deepseek-chat"
  },

  "HOST": "127.0.0.1",  // a non-loopback HOST requires APIKEY
  "PORT": 3456,
  // Every client must send this key (x-api-key or Authorization: Bearer); `ccr code` and `ccr activate`
  // pass it on to Claude Code. Generated for this machine; keep this file private (it is 0600).
  "APIKEY": "__APIKEY__",
  "API_TIMEOUT_MS": 600000,
  "LOG": true,
  "LOG_LEVEL": "info"
}
"""


def new_apikey() -> str:
    return "ccr-" + secrets.token_urlsafe(32)


def example_config() -> str:
    return EXAMPLE_CONFIG.replace("__APIKEY__", new_apikey())
