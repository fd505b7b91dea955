"""The redactor: credentials of every common shape are masked, ordinary words are not."""

from __future__ import annotations

import pytest

from router import redact

MASKED = [
    ("Incorrect API key provided: sk-proj-abcdefghijklmnop1234.", "Incorrect API key provided: [redacted]."),
    ("anthropic sk-ant-api03-AbCdEf0123456789xyz", "anthropic [redacted]"),
    ("groq gsk_abcdefghijklmnopqrstuvwx12", "groq [redacted]"),
    ("Authorization: Bearer abcdef123456789", "Authorization: Bearer [redacted]"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "Authorization: Basic [redacted]"),
    ("api-key: 0123456789abcdef", "api-key: [redacted]"),
    ('{"x-goog-api-key": "AIzaSyabcdefghijklmnopqrstuvwxyz12345"}', '{"x-goog-api-key": "[redacted]"}'),
    ("GET /v1beta/models/g:generateContent?key=Zq81xY7wVu12&alt=sse", "GET /v1beta/models/g:generateContent?key=[redacted]&alt=sse"),
    ("proxy http://user:pa55word@proxy.test:8080", "proxy http://[redacted]@proxy.test:8080"),
]
KEPT = [
    "Bearer authentication is required",
    "sk-learn-estimator-default and pk_users_table_primary_key_column",
    "xai-grok-3-mini-beta answered",
    "http://127.0.0.1:3456/v1/messages",
    "task_type=debug key=value",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_credential_shapes_are_masked(text: str, expected: str) -> None:
    assert redact.redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact.redact(text) == text


def test_registered_secrets_are_masked_whole_and_short_ones_ignored() -> None:
    redact.register(["prov-secret-Zq81", "prov-secret-Zq81-longer", "abc", None])
    assert redact.redact("a prov-secret-Zq81-longer b prov-secret-Zq81 c abc") == "a [redacted] b [redacted] c abc"


def test_secret_names() -> None:
    assert all(map(redact.is_secret_name, ["api_key", "APIKEY", "x-goog-api-key", "access_token", "Authorization"]))
    assert not any(map(redact.is_secret_name, ["max_tokens", "tokenCount", "keys_seen", "name"]))


def test_a_log_record_stays_one_line_whatever_a_client_sent() -> None:
    import logging

    record = logging.LogRecord("ccr", logging.INFO, __file__, 1, "no logged prompt %s", ("x\x00\x1b[31m\nFAKE LINE",),
                               None)
    line = redact.RedactingFormatter("%(levelname)s %(message)s").format(record)
    assert line == "INFO no logged prompt x\\x00\\x1b[31m\\x0aFAKE LINE"
    # masked before escaped: the credential shapes find a secret by the whitespace before it
    record = logging.LogRecord("ccr", logging.INFO, __file__, 1, "%s", ("Authorization: Bearer\tabcdefghijklmnop1234",),
                               None)
    assert "abcdefghijklmnop1234" not in redact.RedactingFormatter("%(message)s").format(record)
