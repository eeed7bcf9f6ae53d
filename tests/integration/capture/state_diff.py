"""How two labs' state dumps (lync_lab.model.stages.dump_state) differ, kind by kind, for the capture tests."""

from __future__ import annotations


def _fields(a: dict, b: dict, prefix: str = "") -> list[str]:
    """The field paths whose values differ (nested dicts compared field by field, e.g. Legacy.presence_policy)."""
    out = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            out += _fields(left, right, f"{prefix}{key}.")
        elif left != right:
            out.append(prefix + key)
    return out


def state_differences(source: dict, copy: dict) -> dict:
    """{kind: {"missing": n, "extra": n, "fields": {field: n}}}: per kind, the objects ``copy`` lacks, the ones it
    has that ``source`` has not, and per field how many common objects differ in it; kinds that agree are left out.
    ``_meta`` (the scenario's name and the seeded stage, not objects) is not compared."""
    out = {}
    for kind in sorted((set(source) | set(copy)) - {"_meta"}):
        left, right = source.get(kind) or {}, copy.get(kind) or {}
        summary: dict = {}
        missing = len(set(left) - set(right))
        extra = len(set(right) - set(left))
        if missing:
            summary["missing"] = missing
        if extra:
            summary["extra"] = extra
        fields: dict[str, int] = {}
        for key in set(left) & set(right):
            for f in _fields(left[key], right[key]):
                fields[f] = fields.get(f, 0) + 1
        if fields:
            summary["fields"] = dict(sorted(fields.items()))
        if summary:
            out[kind] = summary
    return out
