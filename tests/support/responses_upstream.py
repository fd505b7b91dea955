"""A scripted OpenAI Responses API that refuses what the real one refuses.

Every request is checked the way api.openai.com checks it before a model sees it: unknown parameters, sampling
parameters on a reasoning model, `max_output_tokens` below 16, invalid tool names, call ids over 64 characters,
a function call without its output (or an output without its call), and reasoning items that were not issued
by this server or that lack the output item they led to. A refused request is answered with the API's 400 body
and recorded in `errors`, so a test fails on the first thing ccr sends that the real API would not take.

Answers are `Step`s (reasoning, text, tool calls) streamed as the API streams them, with `event:` lines,
sequence numbers, an encrypted content that is incomplete in `output_item.added` and whole in
`output_item.done`, optionally with two calls' argument pieces interleaved.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.upstream import Received, Reply

CREATE_PARAMS = {
    "background", "context_management", "conversation", "include", "input", "instructions", "max_output_tokens",
    "max_tool_calls", "metadata", "model", "parallel_tool_calls", "previous_response_id", "prompt",
    "prompt_cache_key", "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store",
    "stream", "stream_options", "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p",
    "truncation", "user",
}
COUNT_PARAMS = {"conversation", "input", "instructions", "model", "parallel_tool_calls", "previous_response_id",
                "reasoning", "text", "tool_choice", "tools", "truncation", "personality"}
INCLUDABLE = {"reasoning.encrypted_content", "message.output_text.logprobs", "file_search_call.results",
              "web_search_call.action.sources", "message.input_image.image_url",
              "computer_call_output.output.image_url", "code_interpreter_call.outputs"}
REASONING_MODEL = re.compile(r"^(o\d|gpt-5|codex)")
EFFORTS = {"none", "minimal", "low", "medium", "high", "xhigh", "max"}
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ITEM_KEYS = {
    "message": {"type", "role", "content", "id", "status", "phase"},
    "function_call": {"type", "call_id", "name", "arguments", "id", "status", "namespace"},
    "function_call_output": {"type", "call_id", "output", "id", "status"},
    "reasoning": {"type", "id", "encrypted_content", "summary", "content", "status"},
}
USER_PARTS = {"input_text", "input_image", "input_file"}
ASSISTANT_PARTS = {"output_text", "refusal"}


class Refused(Exception):
    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


def error_body(message: str, param: str | None = None, code: str | None = None,
               kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _unknown(obj: dict[str, Any], known: set[str], where: str) -> None:
    for key in obj:
        if key not in known:
            raise Refused(f"Unknown parameter: '{where}{key}'.", f"{where}{key}", "unknown_parameter")


def _parts(content: Any, allowed: set[str], where: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise Refused(f"Invalid type for '{where}': expected a string or an array.", where, "invalid_type")
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in allowed:
            raise Refused(f"Invalid value: '{kind}'. Supported values are: {', '.join(sorted(allowed))}.",
                          f"{where}[{j}].type", "invalid_value")
        if kind in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise Refused(f"Missing required parameter: '{where}[{j}].text'.", f"{where}[{j}].text",
                          "missing_required_parameter")
        if kind == "input_image" and not (part.get("image_url") or part.get("file_id")):
            raise Refused(f"Missing required parameter: '{where}[{j}].image_url'.", f"{where}[{j}].image_url",
                          "missing_required_parameter")
        if kind == "input_file" and not (part.get("file_data") or part.get("file_url") or part.get("file_id")):
            raise Refused(f"Missing required parameter: '{where}[{j}].file_data'.", f"{where}[{j}].file_data",
                          "missing_required_parameter")


@dataclass
class Step:
    """One answer: reasoning (its summary text; "" for a reasoning item without one), text, tool calls."""

    text: str = ""
    reasoning: str | None = None
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    refusal: str = ""
    incomplete: str | None = None  # incomplete_details.reason
    usage: dict[str, Any] | None = None


USAGE = {"input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1000}, "output_tokens": 40,
         "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 1240}


class ResponsesAPI:
    """The validating upstream. `script` maps a request body that passed every check to a Step (or a Reply)."""

    def __init__(self, script: Callable[[dict[str, Any]], Step | Reply] | None = None, *,
                 interleave: bool = False) -> None:
        self.script = script or (lambda body: Step(text="ok"))
        self.interleave = interleave
        self.issued: dict[str, str] = {}  # encrypted_content → the reasoning item id it belongs to
        self.errors: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.replayed: list[str] = []  # reasoning item ids that came back, request after request

    # ---- checks ------------------------------------------------------------------------------------------

    def check(self, body: Any, count: bool = False) -> None:
        """Raise Refused as the real API would answer 400."""
        if not isinstance(body, dict):
            raise Refused("We could not parse the JSON body of your request.")
        _unknown(body, COUNT_PARAMS if count else CREATE_PARAMS, "")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise Refused("Missing required parameter: 'model'.", "model", "missing_required_parameter")
        reasoning_model = bool(REASONING_MODEL.match(model))
        for key in ("temperature", "top_p"):
            if key in body and reasoning_model:
                raise Refused(f"Unsupported parameter: '{key}' is not supported with this model.", key,
                              "unsupported_parameter")
        if "max_output_tokens" in body:
            value = body["max_output_tokens"]
            if not isinstance(value, int) or value < 16:
                raise Refused("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, "
                              f"but got {value} instead.", "max_output_tokens", "integer_below_min_value")
        reasoning = body.get("reasoning")
        if reasoning is not None:
            if not reasoning_model:
                raise Refused("Unsupported parameter: 'reasoning.effort' is not supported with this model.",
                              "reasoning.effort", "unsupported_parameter")
            _unknown(reasoning, {"effort", "summary", "generate_summary", "context", "mode"}, "reasoning.")
            if reasoning.get("effort") not in EFFORTS:
                raise Refused(f"Invalid value: '{reasoning.get('effort')}'.", "reasoning.effort", "invalid_value")
        for value in body.get("include") or []:
            if value not in INCLUDABLE:
                raise Refused(f"Invalid value: '{value}'.", "include", "invalid_value")
        for key, limit in (("safety_identifier", 128), ("prompt_cache_key", 64), ("user", 64)):
            if key in body and (not isinstance(body[key], str) or len(body[key]) > limit):
                raise Refused(f"Invalid '{key}': string too long. Expected a string with maximum length {limit}.",
                              key, "string_above_max_length")
        names = self._tools(body.get("tools"))
        choice = body.get("tool_choice")
        if isinstance(choice, dict) and (choice.get("type") != "function" or choice.get("name") not in names):
            raise Refused(f"Tool choice '{choice.get('name')}' not found in 'tools' parameter.", "tool_choice")
        if choice is not None and not isinstance(choice, dict) and choice not in ("auto", "none", "required"):
            raise Refused(f"Invalid value: '{choice}'.", "tool_choice", "invalid_value")
        self._input(body.get("input"))

    @staticmethod
    def _tools(tools: Any) -> set[str]:
        names: set[str] = set()
        for i, tool in enumerate(tools or []):
            if tool.get("type") != "function":
                raise Refused(f"Invalid value: '{tool.get('type')}'.", f"tools[{i}].type", "invalid_value")
            _unknown(tool, {"type", "name", "description", "parameters", "strict", "defer_loading"}, f"tools[{i}].")
            name = tool.get("name")
            if not isinstance(name, str) or not TOOL_NAME.match(name):
                raise Refused(f"Invalid 'tools[{i}].name': string does not match pattern. Expected a string that "
                              "matches the pattern '^[a-zA-Z0-9_-]+$'.", f"tools[{i}].name", "invalid_value")
            if not isinstance(tool.get("parameters"), dict):
                raise Refused(f"Missing required parameter: 'tools[{i}].parameters'.", f"tools[{i}].parameters")
            names.add(name)
        return names

    def _input(self, items: Any) -> None:
        if isinstance(items, str):
            return
        if not isinstance(items, list):
            raise Refused("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        calls: list[str] = []
        answered: set[str] = set()
        for i, item in enumerate(items):
            where = f"input[{i}]"
            kind = item.get("type", "message") if isinstance(item, dict) else None
            if kind not in ITEM_KEYS:
                raise Refused(f"Invalid value: '{kind}'.", f"{where}.type", "invalid_value")
            _unknown(item, ITEM_KEYS[kind], f"{where}.")
            if kind == "message":
                role = item.get("role")
                if role not in ("user", "assistant", "system", "developer"):
                    raise Refused(f"Invalid value: '{role}'.", f"{where}.role", "invalid_value")
                if "phase" in item and (role != "assistant" or item["phase"] not in ("commentary", "final_answer")):
                    raise Refused(f"Invalid value: '{item['phase']}'.", f"{where}.phase", "invalid_value")
                _parts(item.get("content"), ASSISTANT_PARTS if role == "assistant" else USER_PARTS,
                       f"{where}.content")
            elif kind in ("function_call", "function_call_output"):
                cid = item.get("call_id")
                if not isinstance(cid, str) or not cid:
                    raise Refused(f"Missing required parameter: '{where}.call_id'.", f"{where}.call_id")
                if len(cid) > 64:
                    raise Refused(f"Invalid '{where}.call_id': string too long. Expected a string with maximum "
                                  f"length 64, but got a string with length {len(cid)} instead.",
                                  f"{where}.call_id", "string_above_max_length")
                if kind == "function_call":
                    if not isinstance(item.get("name"), str) or not isinstance(item.get("arguments"), str):
                        raise Refused(f"Invalid type for '{where}.arguments': expected a string.",
                                      f"{where}.arguments", "invalid_type")
                    calls.append(cid)
                else:
                    if cid not in calls:
                        raise Refused(f"No tool call found for function call output with call_id {cid}.", "input")
                    _parts(item.get("output"), USER_PARTS, f"{where}.output")
                    answered.add(cid)
            else:  # reasoning
                rid, encrypted = item.get("id"), item.get("encrypted_content")
                if not encrypted:
                    raise Refused(f"Item with id '{rid}' not found. Items are not persisted when `store` is set to "
                                  "false. Try again with `store` set to true, or remove this item from your input.",
                                  "input")
                if self.issued.get(encrypted) != rid:
                    raise Refused(f"The encrypted content for item {rid} could not be verified.", "input",
                                  "invalid_encrypted_content")
                if not isinstance(item.get("summary"), list):
                    raise Refused(f"Missing required parameter: '{where}.summary'.", f"{where}.summary")
                nxt = items[i + 1] if i + 1 < len(items) else None
                follows = isinstance(nxt, dict) and (nxt.get("type") == "function_call" or (
                    nxt.get("type", "message") == "message" and nxt.get("role") == "assistant"))
                if not follows:
                    raise Refused(f"Item '{rid}' of type 'reasoning' was provided without its required following "
                                  "item.", "input")
        for cid in calls:
            if cid not in answered:
                raise Refused(f"No tool output found for function call {cid}.", "input")

    # ---- serving -----------------------------------------------------------------------------------------

    def __call__(self, req: Received) -> Reply:
        count = req.path.endswith("/input_tokens")
        try:
            self.check(req.body, count=count)
        except Refused as exc:
            self.errors.append(exc.message)
            return Reply(status=400, body=error_body(exc.message, exc.param, exc.code))
        body = req.body
        if count:
            return Reply(body={"object": "response.input_tokens", "input_tokens": len(json.dumps(body)) // 4})
        self.bodies.append(body)
        self.replayed += [it["id"] for it in body["input"] if isinstance(it, dict) and it.get("type") == "reasoning"]
        step = self.script(body)
        if isinstance(step, Reply):
            return step
        if body.get("stream"):
            return Reply(chunks=self.stream(step, body["model"]))
        return Reply(body=self.whole(step, body["model"]))

    def _reasoning_item(self, step: Step) -> dict[str, Any]:
        rid = "rs_" + secrets.token_hex(12)
        encrypted = "gAAAA" + secrets.token_urlsafe(96)
        self.issued[encrypted] = rid
        summary = [{"type": "summary_text", "text": step.reasoning}] if step.reasoning else []
        return {"id": rid, "type": "reasoning", "encrypted_content": encrypted, "summary": summary}

    def output(self, step: Step) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if step.reasoning is not None:
            items.append(self._reasoning_item(step))
        if step.text or step.refusal:
            part = ({"type": "refusal", "refusal": step.refusal} if step.refusal else
                    {"type": "output_text", "text": step.text, "annotations": [], "logprobs": []})
            items.append({"id": "msg_" + secrets.token_hex(8), "type": "message", "status": "completed",
                          "role": "assistant", "content": [part]})
        for cid, name, args in step.calls:
            items.append({"id": "fc_" + secrets.token_hex(8), "type": "function_call", "status": "completed",
                          "call_id": cid, "name": name, "arguments": json.dumps(args)})
        return items

    def response(self, step: Step, model: str, output: list[dict[str, Any]], status: str) -> dict[str, Any]:
        incomplete = {"reason": step.incomplete} if step.incomplete else None
        return {"id": "resp_" + secrets.token_hex(8), "object": "response", "created_at": 1767000000,
                "status": status, "error": None, "incomplete_details": incomplete, "model": model,
                "output": output, "parallel_tool_calls": True, "store": False,
                "usage": step.usage if step.usage is not None else USAGE}

    def whole(self, step: Step, model: str) -> dict[str, Any]:
        return self.response(step, model, self.output(step), "incomplete" if step.incomplete else "completed")

    def stream(self, step: Step, model: str) -> list[bytes]:
        return stream_events(self.response(step, model, self.output(step),
                                           "incomplete" if step.incomplete else "completed"), self.interleave)


def sse_event(ev: dict[str, Any]) -> bytes:
    return f"event: {ev['type']}\ndata: {json.dumps(ev)}\n\n".encode()


def _halves(text: str) -> list[str]:
    cut = max(1, len(text) // 2)
    return [p for p in (text[:cut], text[cut:]) if p]


def stream_events(final: dict[str, Any], interleave: bool = False) -> list[bytes]:
    """A final response object as the event stream that produces it (one bytes object per event)."""
    events: list[dict[str, Any]] = []
    start = dict(final, status="in_progress", output=[], usage=None, incomplete_details=None)
    events.append({"type": "response.created", "response": start})
    events.append({"type": "response.in_progress", "response": start})
    late: list[dict[str, Any]] = []
    for n, item in enumerate(final["output"]):
        kind = item["type"]
        if kind == "reasoning":
            # the encrypted content in `added` is not the one to keep
            events.append({"type": "response.output_item.added", "output_index": n, "item": dict(
                item, summary=[], encrypted_content=item["encrypted_content"][:12])})
            for s, part in enumerate(item["summary"]):
                events.append({"type": "response.reasoning_summary_part.added", "item_id": item["id"],
                               "output_index": n, "summary_index": s, "part": {"type": "summary_text", "text": ""}})
                for piece in _halves(part["text"]):
                    events.append({"type": "response.reasoning_summary_text.delta", "item_id": item["id"],
                                   "output_index": n, "summary_index": s, "delta": piece, "obfuscation": "x"})
                events.append({"type": "response.reasoning_summary_text.done", "item_id": item["id"],
                               "output_index": n, "summary_index": s, "text": part["text"]})
            events.append({"type": "response.output_item.done", "output_index": n, "item": item})
        elif kind == "message":
            events.append({"type": "response.output_item.added", "output_index": n,
                           "item": dict(item, status="in_progress", content=[])})
            part = item["content"][0]
            events.append({"type": "response.content_part.added", "item_id": item["id"], "output_index": n,
                           "content_index": 0, "part": dict(part, **({"text": ""} if "text" in part else
                                                                      {"refusal": ""}))})
            delta_type = "response.refusal.delta" if part["type"] == "refusal" else "response.output_text.delta"
            for piece in re.findall(r".{1,12}", part.get("text") or part.get("refusal") or "", re.S):
                events.append({"type": delta_type, "item_id": item["id"], "output_index": n, "content_index": 0,
                               "delta": piece, "logprobs": []})
            events.append({"type": "response.output_item.done", "output_index": n, "item": item})
        else:  # function_call
            events.append({"type": "response.output_item.added", "output_index": n,
                           "item": dict(item, status="in_progress", arguments="")})
            first, *rest = _halves(item["arguments"]) or [""]
            events.append({"type": "response.function_call_arguments.delta", "item_id": item["id"],
                           "output_index": n, "delta": first})
            tail = [{"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": n,
                     "delta": piece} for piece in rest]
            tail.append({"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": n,
                         "arguments": item["arguments"]})
            tail.append({"type": "response.output_item.done", "output_index": n, "item": item})
            (late if interleave else events).extend(tail)
    events.extend(late)  # interleaved: every call's second half after all calls started
    terminal = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    events.append({"type": terminal, "response": final})
    return [sse_event(dict(ev, sequence_number=i)) for i, ev in enumerate(events)]


def responses_config(url: str, **extra: Any) -> dict[str, Any]:
    """A claude-code-router config for an OpenAI Responses provider, as its users write it."""
    provider: dict[str, Any] = {"name": "oai", "api_base_url": f"{url}/v1/responses", "api_key": "sk-test",
                                "models": extra.pop("models", ["gpt-5.1-codex", "gpt-4.1"]),
                                "transformer": extra.pop("transformer", {"use": ["openai-responses"]})}
    return {"Providers": [provider], "Router": {"default": "oai,gpt-5.1-codex"}, **extra}
