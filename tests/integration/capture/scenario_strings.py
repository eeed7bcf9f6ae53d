"""The strings of a scenario that carry a deployment's data (what an anonymised capture must not contain)."""

from __future__ import annotations

import re

# Keys whose values are the lab's or Microsoft's vocabulary, not the deployment's data.
VOCABULARY_KEYS = {"role", "edition", "app_sharing", "password", "groups", "os", "type", "languages"}
VOCABULARY = {"Default Policy"}


def strings(value, key=None):
    """Every string value of a parsed scenario (or any part of it) except the vocabulary."""
    if isinstance(value, str):
        if key not in VOCABULARY_KEYS and value not in VOCABULARY:
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v, key)


def carries_data(value: str) -> bool:
    """Letters or digits beyond a pattern's syntax (\\d, {4}, $1): ^(\\d{4})$ carries none, +1425555$1 does."""
    return bool(re.search(r"[A-Za-z0-9]", re.sub(r"\\[A-Za-z]|\{\d+(,\d*)?\}|\$\d", "", value)))
