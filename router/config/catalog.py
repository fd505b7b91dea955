"""ccr's built-in model catalog (data/catalog.json): prices, context windows, capabilities and quality tiers
of well-known models, filling what a model's entry in config.json leaves out."""

from __future__ import annotations

import dataclasses
import json
import logging
from functools import cache
from typing import Any

from router import paths
from router.config.schema import Capabilities, ModelInfo, Pricing

log = logging.getLogger("ccr.config")
TIER_NAMES = {"small": 1, "medium": 2, "strong": 3}


@cache
def builtin() -> dict[str, dict[str, Any]]:
    path = paths.repo_data_dir() / "catalog.json"
    try:
        return dict(json.loads(path.read_text())["models"])
    except (OSError, ValueError, KeyError) as exc:  # an installed copy without data/: configs still work
        log.warning("built-in model catalog %s not readable (%s); models need their own metadata", path, exc)
        return {}


def entry(name: str) -> dict[str, Any] | None:
    models = builtin()
    return models.get(name) or models.get(name.rsplit("/", 1)[-1])


def complete(info: ModelInfo, explicit: set[str], local: bool = False) -> ModelInfo:
    """`info` with the catalog's values for the fields config.json did not give (`explicit`). A model served
    locally (`local`) is free unless priced: the catalog's prices are for hosted APIs."""
    known = entry(info.name) or {}
    filled: dict[str, Any] = {}
    if "pricing" not in explicit and local:
        filled["pricing"] = Pricing()
    elif "pricing" not in explicit and "pricing" in known:
        filled["pricing"] = Pricing(**{k: float(v) for k, v in known["pricing"].items()})
    if "context_window" not in explicit and "context_window" in known:
        filled["context_window"] = int(known["context_window"])
    if "max_output_tokens" not in explicit and "max_output_tokens" in known:
        filled["max_output_tokens"] = int(known["max_output_tokens"])
    if "capabilities" not in explicit and "capabilities" in known:
        filled["capabilities"] = Capabilities(**known["capabilities"])
        filled["capabilities_known"] = True
    if "tier" not in explicit and "tier" in known:
        filled["tier"] = int(known["tier"])
    if "tiers" not in explicit and "tiers" in known:
        filled["tiers"] = {k: int(v) for k, v in known["tiers"].items()}
    if not filled:
        return info
    return dataclasses.replace(info, **filled, from_catalog=tuple(k for k in filled if k in known))
