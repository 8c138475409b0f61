"""Loading provider prices into the price book: our own list format, or LiteLLM's
model_prices_and_context_window.json. Each price goes through private.set_price, which ends
the old price now and audits the change, so past events keep the price they were charged."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import psycopg
from psycopg.rows import tuple_row

PROVIDERS = ("groq", "deepgram", "twilio")
UNITS = ("input_token", "output_token", "audio_second", "character", "minute")
# LiteLLM field -> our unit
LITELLM_FIELDS = {
    "input_cost_per_token": "input_token",
    "output_cost_per_token": "output_token",
    "input_cost_per_second": "audio_second",
    "input_cost_per_character": "character",  # text-to-speech is billed on the text sent
}


class PriceFileError(ValueError):
    """The file is not a price list we understand; the message says where."""


@dataclass(frozen=True)
class Imported:
    read: int  # prices in the file (one per provider, model and unit)
    changed: int  # of those, new or different from the price in force


def parse(text: str) -> list[tuple[str, str, str, float]]:
    """(provider, model, unit, usd_per_unit) rows from either format."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PriceFileError(f"not JSON: {exc.msg} at line {exc.lineno}") from exc
    if isinstance(data, list):
        rows = [_own_row(i, row) for i, row in enumerate(data)]
    elif isinstance(data, dict):
        rows = _litellm_rows(data)
    else:
        raise PriceFileError("expected a JSON list of prices or LiteLLM's object of models")
    return _distinct(rows)


def _distinct(rows: list[tuple[str, str, str, float]]) -> list[tuple[str, str, str, float]]:
    """One price per provider, model and unit: two different ones would both start now."""
    found: dict[tuple[str, str, str], float] = {}
    for provider, model, unit, price in rows:
        key = (provider, model, unit)
        if key in found and found[key] != price:
            raise PriceFileError(
                f"{provider}/{model} has two prices per {unit} ({found[key]} and {price}); keep one"
            )
        found[key] = price
    return [(*key, price) for key, price in found.items()]


def _is_price(value: Any) -> TypeGuard[float]:
    """A finite number >= 0 (JSON's true is not 1.0, and NaN is not a price)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _own_row(index: int, row: Any) -> tuple[str, str, str, float]:
    if not isinstance(row, dict):
        raise PriceFileError(f"item {index}: expected an object")
    provider, model, unit = row.get("provider"), row.get("model"), row.get("unit")
    price = row.get("usd_per_unit")
    if provider not in PROVIDERS:
        raise PriceFileError(f"item {index}: provider must be one of {', '.join(PROVIDERS)}")
    if unit not in UNITS:
        raise PriceFileError(f"item {index}: unit must be one of {', '.join(UNITS)}")
    if not isinstance(model, str) or not model:
        raise PriceFileError(f"item {index}: model is required ('*' for the provider default)")
    if not _is_price(price):
        raise PriceFileError(f"item {index}: usd_per_unit must be a number >= 0")
    return provider, model, unit, float(price)


def _litellm_rows(data: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    rows = []
    for name, entry in data.items():
        if not isinstance(entry, dict):
            continue
        provider = entry.get("litellm_provider")
        if provider not in PROVIDERS:
            continue  # LiteLLM lists hundreds of providers; we price ours
        model = name.split("/", 1)[1] if name.startswith(f"{provider}/") else name
        for field, unit in LITELLM_FIELDS.items():
            value = entry.get(field)
            if _is_price(value):
                rows.append((provider, model, unit, float(value)))
    if not rows:
        raise PriceFileError("no Groq, Deepgram or Twilio prices found in this LiteLLM file")
    return rows


def load(conn: psycopg.Connection[Any], path: Path) -> Imported:
    """`voxflow prices import FILE`: the file's prices, changed by no one in particular."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PriceFileError(f"cannot be read as UTF-8 text ({type(exc).__name__})") from exc
    return load_bytes(conn, data, source=f"import:{path.name}")


def load_bytes(
    conn: psycopg.Connection[Any], data: bytes, source: str, actor_id: str | None = None
) -> Imported:
    """Apply every price in a price file in one transaction (the CLI's file, or one uploaded to
    the sidecar by `actor_id`); each changed price is audited with `source`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PriceFileError(f"cannot be read as UTF-8 text ({type(exc).__name__})") from exc
    rows = parse(text)
    changed = 0
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        for provider, model, unit, price in rows:
            key = (provider, model, unit)
            before = cur.execute(
                "select id from public.price_book where provider = %s and model = %s "
                "and unit = %s and effective_to is null",
                key,
            ).fetchone()
            after = cur.execute(
                "select private.set_price(%s, %s, %s, %s::numeric, %s, %s::uuid)",
                (*key, price, source, actor_id),
            ).fetchone()
            # set_price answers the price in force: the same id when the price was the same.
            changed += before is None or after is None or after[0] != before[0]
    return Imported(read=len(rows), changed=changed)
