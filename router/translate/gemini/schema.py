"""JSON Schema (as Claude Code's tools declare it) → the OpenAPI subset Gemini's `parameters` accepts.

Gemini answers 400 to keywords outside its Schema type ($schema, additionalProperties, const, propertyNames,
exclusiveMinimum, type arrays, $ref…), to `required` names that are not properties, to an OBJECT with empty
`properties` and to enums of anything but strings. What can be kept is rewritten (const → a one-value enum, a
type array → nullable or anyOf, $ref → the definition inlined, oneOf → anyOf, allOf → merged); what cannot
(a non-string const, an exclusive bound on a number, a format Gemini does not take) moves into the description
so that the model still reads it.
"""

from __future__ import annotations

from typing import Any

import orjson

from router.translate.values import as_dict, as_list

# keys of Gemini's Schema that are passed on (each rewritten recursively where it holds schemas)
_KEEP = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
         "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "minimum", "maximum",
         "anyOf", "items", "propertyOrdering"}
# formats Gemini takes, per type; others are described instead
_FORMATS = {"string": {"enum", "date-time"}, "number": {"float", "double"}, "integer": {"int32", "int64"}}
_TYPES = {"string", "number", "integer", "boolean", "array", "object"}
_MAX_DEPTH = 40  # deeper than any real tool; a guard against pathological schemas
# schemas written per tool, far more than any real tool has: inlining $refs and splitting type arrays copy
# subschemas, so a small schema (a definition using the next one twice, 30 deep) could otherwise become 2**30
_MAX_NODES = 5000
# the integers orjson writes: an exclusive bound moved by one must stay among them
_INT_RANGE = range(-(2**63), 2**64)


def _note(schema: dict[str, Any], text: str) -> None:
    desc = schema.get("description")
    schema["description"] = f"{desc} ({text})" if isinstance(desc, str) and desc else f"({text})"


def _literal(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return repr(value)


class _Cleaner:
    def __init__(self, root: dict[str, Any]) -> None:
        defs: dict[str, Any] = {}
        for key in ("$defs", "definitions"):
            if isinstance(root.get(key), dict):
                defs.update({f"#/{key}/{name}": value for name, value in root[key].items()})
        self.defs = defs
        self.stack: list[str] = []  # the $refs being inlined, for cycles
        self.nodes = 0

    def clean(self, node: Any, depth: int = 0) -> dict[str, Any]:
        if node is True or not isinstance(node, dict):
            return {}  # any value: Gemini has no "any", an untyped schema is the closest
        if depth > _MAX_DEPTH:
            return {"type": "object", "description": "(nested too deeply to describe)"}
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            return {"type": "object", "description": "(the schema is too large to describe here)"}
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._ref(ref, node, depth)
        node = self._merge_all_of(node)
        out: dict[str, Any] = {}
        for key in ("title", "description"):
            if isinstance(node.get(key), str):
                out[key] = node[key]
        kind = node.get("type")
        if isinstance(kind, list):
            return self._type_list(node, [t for t in kind if isinstance(t, str)], depth)
        if kind == "null":
            out.update({"type": "string", "nullable": True})
            _note(out, "always null")
            return out
        if isinstance(kind, str) and kind in _TYPES:
            out["type"] = kind
        if node.get("nullable") is True:
            out["nullable"] = True
        variants = node.get("anyOf") if isinstance(node.get("anyOf"), list) else node.get("oneOf")
        if isinstance(variants, list):
            self._any_of(out, variants, depth)
        self._values(node, out)
        self._bounds(node, out)
        self._format(node, out)
        if out.get("type") == "object" or "properties" in node:
            self._object(node, out, depth)
        if out.get("type") == "array" or "items" in node:
            items = node.get("items")
            if isinstance(items, list):  # tuple form: Gemini takes one schema for all items
                items = {"anyOf": items} if items else {}
            if items is not None:
                out["items"] = self.clean(items, depth + 1)
            for key in ("minItems", "maxItems"):
                if isinstance(node.get(key), int):
                    out[key] = node[key]
        for key in ("minLength", "maxLength", "pattern", "minProperties", "maxProperties"):
            if key in node and key in _KEEP and isinstance(node[key], int | str) and not isinstance(node[key], bool):
                out[key] = node[key]
        return out

    def _ref(self, ref: str, node: dict[str, Any], depth: int) -> dict[str, Any]:
        name = ref.rsplit("/", 1)[-1]
        target = self.defs.get(ref)
        if target is None or ref in self.stack:
            why = "recursive" if ref in self.stack else "unresolved"
            out: dict[str, Any] = {"type": "object"}
            _note(out, f"{why} reference to {name}, described above" if why == "recursive" else f"{why} {ref}")
            return out
        self.stack.append(ref)
        try:
            out = self.clean(target, depth + 1)
        finally:
            self.stack.pop()
        if isinstance(node.get("description"), str):  # a description beside the $ref describes this use
            out["description"] = node["description"]
        return out

    @staticmethod
    def _merge_all_of(node: dict[str, Any]) -> dict[str, Any]:
        parts = node.get("allOf")
        if not isinstance(parts, list):
            return node
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for part in parts:
            if not isinstance(part, dict):
                continue
            for key, value in part.items():
                if key == "properties" and isinstance(value, dict):
                    merged["properties"] = {**as_dict(merged.get("properties")), **value}
                elif key == "required" and isinstance(value, list):
                    merged["required"] = [*as_list(merged.get("required")), *value]
                else:
                    merged.setdefault(key, value)
        return merged

    def _type_list(self, node: dict[str, Any], kinds: list[str], depth: int) -> dict[str, Any]:
        nullable = "null" in kinds
        kinds = [k for k in kinds if k != "null" and k in _TYPES]
        if not kinds:
            return self.clean({**node, "type": "null"}, depth)
        if len(kinds) == 1:
            out = self.clean({**node, "type": kinds[0]}, depth)
            if nullable:
                out["nullable"] = True
            return out
        branches = [self.clean({**node, "type": k, "description": None}, depth + 1) for k in kinds]
        for b in branches:
            b.pop("description", None)
        out = {"anyOf": branches}
        if isinstance(node.get("description"), str):
            out["description"] = node["description"]
        if nullable:
            out["nullable"] = True
        return out

    def _any_of(self, out: dict[str, Any], variants: list[Any], depth: int) -> None:
        nulls = [v for v in variants if isinstance(v, dict) and v.get("type") == "null"]
        rest = [self.clean(v, depth + 1) for v in variants if not (isinstance(v, dict) and v.get("type") == "null")]
        if nulls:
            out["nullable"] = True
        if len(rest) == 1 and "type" not in out:
            desc = out.get("description")
            out.update(rest[0])
            if desc:
                out["description"] = desc
        elif rest:
            out["anyOf"] = rest

    @staticmethod
    def _values(node: dict[str, Any], out: dict[str, Any]) -> None:
        if "const" in node:
            value = node["const"]
            if isinstance(value, str):
                out.update({"type": "string", "enum": [value]})
            else:
                _note(out, f"must be {_literal(value)}")
        enum = node.get("enum")
        if isinstance(enum, list) and enum:
            if all(isinstance(v, str) for v in enum):
                out["enum"] = list(enum)
                out.setdefault("type", "string")
            else:  # Gemini's enums are strings only
                _note(out, "one of: " + ", ".join(_literal(v) for v in enum))
        for key, label in (("default", "default"), ("examples", "examples")):
            if key in node:
                _note(out, f"{label}: {_literal(node[key])}")

    @staticmethod
    def _bounds(node: dict[str, Any], out: dict[str, Any]) -> None:
        integer = out.get("type") == "integer"
        for key in ("minimum", "maximum"):
            value = node.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[key] = value
        for key, inclusive, step in (("exclusiveMinimum", "minimum", 1), ("exclusiveMaximum", "maximum", -1)):
            value = node.get(key)
            if value is True and isinstance(node.get(inclusive), int | float):  # draft 4: a flag on the bound
                value = node[inclusive]
            if isinstance(value, int | float) and not isinstance(value, bool):
                if integer and isinstance(value, int) and value + step in _INT_RANGE:
                    out[inclusive] = value + step  # the same set of integers
                else:
                    out[inclusive] = value
                    _note(out, f"{'greater' if step > 0 else 'less'} than {value}, not equal")

    @staticmethod
    def _format(node: dict[str, Any], out: dict[str, Any]) -> None:
        fmt = node.get("format")
        if not isinstance(fmt, str):
            return
        if fmt in _FORMATS.get(str(out.get("type")), set()):
            out["format"] = fmt
        else:
            _note(out, f"format: {fmt}")

    def _object(self, node: dict[str, Any], out: dict[str, Any], depth: int) -> None:
        props = node.get("properties")
        if isinstance(props, dict) and props:
            out["properties"] = {str(k): self.clean(v, depth + 1) for k, v in props.items()}
            required = [r for r in as_list(node.get("required")) if isinstance(r, str) and r in props]
            if required:
                out["required"] = list(dict.fromkeys(required))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra and not props:
            _note(out, "an object of any keys")


def clean_parameters(schema: Any) -> dict[str, Any] | None:
    """A tool's input_schema as Gemini `parameters`; None for a tool without parameters (Gemini refuses an
    OBJECT whose properties are empty)."""
    if not isinstance(schema, dict):
        return None
    out = _Cleaner(schema).clean(schema)
    if out.get("type") == "object" and not out.get("properties"):
        return None
    return out
