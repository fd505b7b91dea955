"""A scripted Gemini API that refuses what the real one refuses.

Every request is checked the way Google's API checks it before a model sees it: unknown fields anywhere in the
body (`Invalid JSON payload received. Unknown name "x"`), schema keywords Gemini's Schema lacks, roles other
than user/model, turns that do not alternate, empty parts, a part with no data or two, functionResponse.response
that is not an object, a function call turn not answered by as many function responses in the next turn,
thought signatures that are not base64 or that Gemini never issued, and for Gemini 3 models the first
functionCall of each step of the current turn without its thought_signature. What passes goes to the test's
handler, which answers with Gemini's own shapes (`stream`, `whole`, `error`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.upstream import Received, Reply

SKIP = "skip_thought_signature_validator"
_PATH = re.compile(r"/models/([^/:]+):(\w+)$")

_REQUEST = {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings",
            "cachedContent", "labels", "model"}
_CONTENT = {"role", "parts"}
_DATA = {"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
         "codeExecutionResult"}
_PART = _DATA | {"thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution"}
_SCHEMA = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
           "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
           "propertyOrdering", "default", "items", "minimum", "maximum"}
_TYPES = {"string", "number", "integer", "boolean", "array", "object", "STRING", "NUMBER", "INTEGER", "BOOLEAN",
          "ARRAY", "OBJECT"}
_TOOL = {"functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution", "urlContext"}
_DECL = {"name", "description", "parameters", "parametersJsonSchema", "response", "behavior"}
_GENERATION = {"stopSequences", "responseMimeType", "responseSchema", "candidateCount", "maxOutputTokens",
               "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty", "thinkingConfig",
               "responseModalities", "mediaResolution"}
_THINKING = {"includeThoughts", "thinkingBudget", "thinkingLevel"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
_B64 = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")


class Refused(Exception):
    def __init__(self, message: str, status: int = 400, kind: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


def _unknown(obj: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            at = f" at '{where}'" if where else ""
            raise Refused(f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.')


def _generation(model: str) -> int | None:
    m = re.search(r"gemini-(\d+)", model)
    return int(m.group(1)) if m else None


@dataclass
class Call:
    """A request that passed validation."""

    model: str
    method: str
    body: dict[str, Any]
    received: Received

    @property
    def streamed(self) -> bool:
        return self.method == "streamGenerateContent"


@dataclass
class GeminiAPI:
    """The validating front; `handler` answers what passed."""

    handler: Callable[[Call], Reply]
    key: str | None = "gm-test-key"  # the x-goog-api-key expected (None: not checked, e.g. Vertex with a token)
    bearer: Callable[[str], bool] | None = None  # checks an Authorization: Bearer token
    text_only: set[str] = field(default_factory=set)
    issued: set[str] = field(default_factory=set)  # thought signatures this "Gemini" handed out
    calls: list[Call] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def sign(self) -> str:
        signature = base64.b64encode(b"sig:" + secrets.token_bytes(24)).decode()
        self.issued.add(signature)
        return signature

    def __call__(self, req: Received) -> Reply:
        m = _PATH.search(req.path)
        if m is None:
            if req.path.rstrip("/").endswith("/models"):
                return Reply(body={"models": [{"name": "models/gemini-test"}]})
            return error(404, f"Method not found: {req.path}", "NOT_FOUND")
        headers = {k.lower(): v for k, v in req.headers.items()}
        if self.bearer is not None:
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer ") or not self.bearer(auth[7:]):
                return error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        elif self.key is not None and headers.get("x-goog-api-key") != self.key:
            return error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT")
        model, method = m.group(1), m.group(2)
        if method == "streamGenerateContent" and "alt=sse" not in req.query:
            return error(400, "this scripted Gemini only streams with alt=sse", "INVALID_ARGUMENT")
        body = req.body if isinstance(req.body, dict) else None
        if body is None:
            return error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        try:
            if method == "countTokens":
                inner = body.get("generateContentRequest", body)
                _unknown(body, {"generateContentRequest"} if "generateContentRequest" in body else _REQUEST, "")
                self.validate(inner, model)
            elif method in ("generateContent", "streamGenerateContent"):
                self.validate(body, model)
            else:
                raise Refused(f"Method not found: {method}", 404, "NOT_FOUND")
        except Refused as exc:
            self.refusals.append(str(exc))
            return error(exc.status, str(exc), exc.kind)
        call = Call(model, method, body, req)
        self.calls.append(call)
        return self.handler(call)

    # ---- validation ------------------------------------------------------------------------------------

    def validate(self, body: dict[str, Any], model: str) -> None:
        _unknown(body, _REQUEST, "")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise Refused("* GenerateContentRequest.contents: contents is not specified")
        system = body.get("systemInstruction")
        if system is not None:
            _unknown(system, _CONTENT, "system_instruction")
            self._parts(system.get("parts"), "system_instruction", model)
        previous = None
        for i, content in enumerate(contents):
            where = f"contents[{i}]"
            if not isinstance(content, dict):
                raise Refused(f"Invalid value at '{where}'")
            _unknown(content, _CONTENT, where)
            role = content.get("role")
            if role not in ("user", "model"):
                raise Refused(f"Please use a valid role: user, model. (got {role!r} at {where})")
            if role == previous:
                raise Refused("Please ensure that multiturn requests alternate between user and model.")
            previous = role
            self._parts(content.get("parts"), where, model)
        self._calls_answered(contents)
        if (_generation(model) or 3) >= 3:
            self._signatures(contents)
        declared: set[str] = set()
        for i, tool in enumerate(body.get("tools") or []):
            _unknown(tool, _TOOL, f"tools[{i}]")
            for j, decl in enumerate(tool.get("functionDeclarations") or []):
                where = f"tools[{i}].function_declarations[{j}]"
                _unknown(decl, _DECL, where)
                if not isinstance(decl.get("name"), str) or not _NAME.match(decl["name"]):
                    raise Refused(f"* GenerateContentRequest.{where}.name: Invalid function name. Must start with "
                                  "a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), "
                                  "dots (.), colons (:) or dashes (-), with a maximum length of 64.")
                if decl["name"] in declared:
                    raise Refused(f"Duplicate function declaration found: {decl['name']}")
                declared.add(decl["name"])
                if "parameters" in decl:
                    self._schema(decl["parameters"], f"{where}.parameters")
        config = body.get("toolConfig")
        if config is not None:
            _unknown(config, {"functionCallingConfig", "retrievalConfig"}, "tool_config")
            fc = config.get("functionCallingConfig") or {}
            _unknown(fc, {"mode", "allowedFunctionNames"}, "tool_config.function_calling_config")
            if fc.get("mode") not in ("AUTO", "ANY", "NONE", "VALIDATED"):
                raise Refused(f"Invalid value at 'tool_config.function_calling_config.mode', {fc.get('mode')!r}")
            if fc.get("allowedFunctionNames") and fc.get("mode") != "ANY":
                raise Refused("allowed_function_names may only be set when mode is ANY")
        generation = body.get("generationConfig") or {}
        _unknown(generation, _GENERATION, "generation_config")
        for key, kind in (("maxOutputTokens", int), ("topK", int), ("temperature", float), ("topP", float)):
            value = generation.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or (kind is int and value != int(value))):
                raise Refused(f"Invalid value at 'generation_config.{key}' ({'TYPE_INT32' if kind is int else 'TYPE_FLOAT'}"
                              f"), {json.dumps(value)}")
        stops = generation.get("stopSequences")
        if stops is not None and (not isinstance(stops, list) or not all(isinstance(v, str) for v in stops)):
            raise Refused(f"Invalid value at 'generation_config.stop_sequences' (TYPE_STRING), {json.dumps(stops)}")
        thinking = generation.get("thinkingConfig")
        if thinking is not None:
            _unknown(thinking, _THINKING, "generation_config.thinking_config")
            if "thinkingLevel" in thinking and "thinkingBudget" in thinking:
                raise Refused("You can only set one of thinking budget and thinking level.")
            if "thinkingLevel" in thinking and (_generation(model) or 3) < 3:
                raise Refused("Thinking level is not supported for this model.")
            if thinking.get("thinkingBudget") == 0 and "pro" in model:
                raise Refused("Budget 0 is invalid. This model only works in thinking mode.")

    def _parts(self, parts: Any, where: str, model: str) -> None:
        if not isinstance(parts, list) or not parts:
            raise Refused(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.")
        for j, part in enumerate(parts):
            pwhere = f"{where}.parts[{j}]"
            if not isinstance(part, dict):
                raise Refused(f"Invalid value at '{pwhere}'")
            _unknown(part, _PART, pwhere)
            data = [k for k in _DATA if k in part]
            if len(data) != 1:
                raise Refused(f"* GenerateContentRequest.{pwhere}.data: required oneof field 'data' must have one "
                              "initialized field" if not data else f"{pwhere}: only one of {data} may be set")
            if "text" in part and not isinstance(part["text"], str):
                raise Refused(f"Invalid value at '{pwhere}.text' (TYPE_STRING)")
            signature = part.get("thoughtSignature")
            if signature is not None:
                if not isinstance(signature, str) or not _B64.match(signature) or len(signature) % 4:
                    raise Refused(f"Invalid value at '{pwhere}.thought_signature' (TYPE_BYTES), Base64 decoding "
                                  "failed")
                if signature != SKIP and signature not in self.issued:
                    raise Refused("Corrupted thought signature.")
            if "inlineData" in part:
                inline = part["inlineData"]
                _unknown(inline, {"mimeType", "data"}, f"{pwhere}.inline_data")
                if model in self.text_only and not str(inline.get("mimeType", "")).startswith("text/"):
                    raise Refused(f"The model {model} does not support {inline.get('mimeType')} input.")
                try:
                    base64.b64decode(inline.get("data", ""), validate=True)
                except ValueError:
                    raise Refused(f"Invalid value at '{pwhere}.inline_data.data' (TYPE_BYTES), Base64 decoding "
                                  "failed") from None
            if "fileData" in part:
                _unknown(part["fileData"], {"mimeType", "fileUri", "displayName"}, f"{pwhere}.file_data")
                if model in self.text_only:
                    raise Refused(f"The model {model} does not support file input.")
            if "functionCall" in part:
                _unknown(part["functionCall"], {"id", "name", "args"}, f"{pwhere}.function_call")
                if not isinstance(part["functionCall"].get("args", {}), dict):
                    raise Refused(f"Invalid value at '{pwhere}.function_call.args' (type.googleapis.com/"
                                  "google.protobuf.Struct)")
            if "functionResponse" in part:
                fr = part["functionResponse"]
                _unknown(fr, {"id", "name", "response", "parts", "willContinue", "scheduling"},
                         f"{pwhere}.function_response")
                if not isinstance(fr.get("response"), dict):
                    raise Refused(f"Invalid value at '{pwhere}.function_response.response' (type.googleapis.com/"
                                  f"google.protobuf.Struct), {json.dumps(fr.get('response'))}")
                if not isinstance(fr.get("name"), str) or not fr["name"]:
                    raise Refused(f"* GenerateContentRequest.{pwhere}.function_response.name: Name cannot be empty.")

    @staticmethod
    def _calls_answered(contents: list[dict[str, Any]]) -> None:
        for i, content in enumerate(contents):
            responses = [p["functionResponse"] for p in content["parts"] if "functionResponse" in p]
            previous = contents[i - 1] if i else None
            calls = [p["functionCall"] for p in previous["parts"] if "functionCall" in p] if previous else []
            if responses and not calls:
                raise Refused("Please ensure that function response turn comes immediately after a function call "
                              "turn.")
            if calls and len(responses) != len(calls):
                raise Refused("Please ensure that the number of function response parts is equal to the number of "
                              "function call parts of the function call turn.")
            by_id = {c.get("id"): c.get("name") for c in calls}
            for r in responses:
                if r.get("id") is not None and r.get("id") not in by_id:
                    raise Refused(f"function response id {r.get('id')!r} answers no function call")
                if r.get("id") is not None and by_id[r["id"]] != r.get("name"):
                    raise Refused(f"function response {r.get('id')!r} names {r.get('name')!r}, its call "
                                  f"{by_id[r['id']]!r}")

    @staticmethod
    def _signatures(contents: list[dict[str, Any]]) -> None:
        """Gemini 3: in the current turn (from the latest user content with standard content), the first
        functionCall part of every model step must carry its thought signature."""
        start = 0
        for i, content in enumerate(contents):
            if content["role"] == "user" and any("functionResponse" not in p for p in content["parts"]):
                start = i
        for i, content in enumerate(contents[start:], start):
            calls = [p for p in content["parts"] if "functionCall" in p]
            if content["role"] == "model" and calls and "thoughtSignature" not in calls[0]:
                raise Refused("Function call is missing a thought_signature in functionCall parts. This is required "
                              "for tools to work correctly, and missing thought_signature may lead to degraded "
                              "model performance. Additional data, function call `default_api:"
                              f"{calls[0]['functionCall'].get('name')}` , position {i + 1}. Please refer to "
                              "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")

    def _schema(self, schema: Any, where: str) -> None:
        if not isinstance(schema, dict):
            raise Refused(f"Invalid value at '{where}'")
        _unknown(schema, _SCHEMA, where)
        kind = schema.get("type")
        if kind is not None and kind not in _TYPES:
            raise Refused(f"Invalid value at '{where}.type', {json.dumps(kind)}")
        enum = schema.get("enum")
        if enum is not None and (not isinstance(enum, list) or not all(isinstance(v, str) for v in enum)):
            raise Refused(f"Invalid value at '{where}.enum': only strings are allowed")
        props = schema.get("properties")
        if str(kind).lower() == "object" and props is not None and not props:
            raise Refused(f"* GenerateContentRequest.{where}.properties: should be non-empty for OBJECT type")
        for name, sub in (props or {}).items():
            self._schema(sub, f"{where}.properties[{name}].value")
        for name in schema.get("required") or []:
            if name not in (props or {}):
                raise Refused(f"* GenerateContentRequest.{where}.required[{name}]: property is not defined")
        if "items" in schema:
            self._schema(schema["items"], f"{where}.items")
        for k, sub in enumerate(schema.get("anyOf") or []):
            self._schema(sub, f"{where}.any_of[{k}]")


# ---- answers, in Gemini's shapes ---------------------------------------------------------------------------

def error(code: int, message: str, status: str) -> Reply:
    return Reply(status=code, body={"error": {"code": code, "message": message, "status": status}})


def usage(prompt: int = 1200, output: int = 40, cached: int = 1000, thoughts: int = 0) -> dict[str, Any]:
    meta: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": output,
                            "totalTokenCount": prompt + output + thoughts}
    if cached:
        meta["cachedContentTokenCount"] = cached
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    return meta


def response(parts: list[dict[str, Any]], finish: str | None = None, meta: dict[str, Any] | None = None,
             model: str = "gemini-test") -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": "resp-scripted"}
    if meta:
        out["usageMetadata"] = meta
    return out


def sse_events(*events: dict[str, Any]) -> list[bytes]:
    """As Gemini streams: `data: {...}` events separated by CRLF CRLF, no [DONE]."""
    return [b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\r\n\r\n" for e in events]


def stream(*events: dict[str, Any]) -> Reply:
    return Reply(chunks=sse_events(*events), content_type="text/event-stream")


def whole(*events: dict[str, Any]) -> Reply:
    """The events of a stream merged into one generateContent answer."""
    parts: list[dict[str, Any]] = []
    final: dict[str, Any] = {}
    for e in events:
        for candidate in e.get("candidates", []):
            parts.extend(candidate.get("content", {}).get("parts", []))
            final = {**final, **{k: v for k, v in candidate.items() if k != "content"}}
        if "usageMetadata" in e:
            meta = e["usageMetadata"]
    out: dict[str, Any] = {"candidates": [{**final, "content": {"role": "model", "parts": parts}}]}
    if "meta" in locals():
        out["usageMetadata"] = meta
    return Reply(body=out)


def gemini_config(url: str, **extra: Any) -> dict[str, Any]:
    """A claude-code-router Gemini provider, as its users write it, pointing at a scripted upstream."""
    models = extra.pop("models", ["gemini-3-pro-preview", "gemini-2.5-flash"])
    provider: dict[str, Any] = {"name": "gm", "api_base_url": f"{url}/v1beta/models/", "api_key": "gm-test-key",
                                "models": models, "transformer": extra.pop("transformer", {"use": ["gemini"]})}
    return {"Providers": [provider], "Router": {"default": f"gm,{models[0] if isinstance(models[0], str) else models[0]['name']}"},
            **extra}
