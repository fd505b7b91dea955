"""Base64 images, as every translator sends them on: checked as Anthropic checks them (base64 of a JPEG, PNG, GIF or
WebP image, else a 400 naming the field), and sent as the type the bytes are, whatever the label said (Claude Code
has labelled JPEG screenshots image/png; Anthropic refuses that, another provider gets the image as it is)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from router.translate import openai_chat, openai_responses
from router.translate.gemini import request as gemini
from router.translate.gemini.options import GeminiOptions
from router.translate.openai_chat import ChatOptions
from router.translate.openai_responses import ResponsesOptions
from router.translate.reading import IMAGE_OMITTED
from router.wire.errors import InvalidRequest


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


PNG = b64(b"\x89PNG\r\n\x1a\n" + bytes(24))
JPEG = b64(b"\xff\xd8\xff\xe0" + bytes(24))
GIF = b64(b"GIF89a" + bytes(24))
WEBP = b64(b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(16))


def chat(image: dict[str, Any], blind: bool = False) -> str:
    out = openai_chat.translate_request(_body(image), "m", ChatOptions(blind=blind))[0]
    content = out["messages"][-1]["content"]
    if isinstance(content, str):  # text only (the note in the image's place): joined into one string
        return content.split("\n\n")[0]
    part = content[0]
    return str(part["image_url"]["url"] if part["type"] == "image_url" else part["text"])


def responses(image: dict[str, Any], blind: bool = False) -> str:
    out = openai_responses.translate_request(_body(image), "m", ResponsesOptions(model="m", blind=blind))[0]
    part = out["input"][-1]["content"][0]
    return str(part["image_url"] if part["type"] == "input_image" else part["text"])


def gemini_(image: dict[str, Any], blind: bool = False) -> str:
    out = gemini.translate_request(_body(image), "gemini-2.5-pro", GeminiOptions(generation=2, blind=blind))[0]
    part = out["contents"][-1]["parts"][0]
    return "data:{};base64,{}".format(part["inlineData"]["mimeType"], part["inlineData"]["data"]) if (
        "inlineData" in part) else str(part["text"])


def _body(image: dict[str, Any]) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 100, "messages": [
        {"role": "user", "content": [{"type": "image", "source": image}, {"type": "text", "text": "what is this?"}]}]}


TRANSLATORS: list[Callable[..., str]] = [chat, responses, gemini_]


@pytest.mark.parametrize("translate", TRANSLATORS)
@pytest.mark.parametrize(("data", "label", "sent"), [
    (PNG, "image/png", "image/png"),
    (JPEG, "image/jpeg", "image/jpeg"),
    (GIF, "image/gif", "image/gif"),
    (WEBP, "image/webp", "image/webp"),
    (JPEG, "image/png", "image/jpeg"),  # mislabelled: sent as what it is
    (PNG, None, "image/png"),
])
def test_an_image_is_sent_as_the_type_its_bytes_are(translate: Callable[..., str], data: str, label: str | None,
                                                    sent: str) -> None:
    source = {"type": "base64", "data": data, **({"media_type": label} if label else {})}
    assert translate(source) == f"data:{sent};base64,{data}"


@pytest.mark.parametrize("translate", TRANSLATORS)
@pytest.mark.parametrize(("data", "message"), [
    ("not base64!", "messages.0.content.0.source.data: invalid base64 data"),
    ("data:image/png;base64," + PNG, "messages.0.content.0.source.data: invalid base64 data"),
    (PNG[:-2], "messages.0.content.0.source.data: invalid base64 data"),
    ("iVBORw0KGgo=é", "messages.0.content.0.source.data: invalid base64 data"),
    (b64(b"BM" + bytes(30)), "the image is not a JPEG, PNG, GIF or WebP image (declared 'image/png'); media_type"),
    ("", "messages.0.content.0.source.data: must be the image's bytes, base64-encoded"),
    (None, "messages.0.content.0.source.data: must be the image's bytes, base64-encoded"),
])
def test_a_bad_image_is_refused_naming_the_field(translate: Callable[..., str], data: Any, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        translate({"type": "base64", "media_type": "image/png", "data": data})
    assert message in str(refused.value)


@pytest.mark.parametrize("translate", TRANSLATORS)
def test_a_model_that_reads_no_images_gets_the_note_without_a_check(translate: Callable[..., str]) -> None:
    assert translate({"type": "base64", "media_type": "image/png", "data": "not base64!"}, blind=True) == IMAGE_OMITTED
