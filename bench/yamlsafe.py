"""A strict YAML loader for ``claims.yaml``: what PyYAML's ``safe_load`` lets through silently, refused or fixed.

- A key given twice in one mapping is an error (``safe_load`` keeps the last one silently).
- Aliases are bounded (:data:`MAX_ALIASES` per file): nested aliases expand exponentially when the parsed
  document is walked (the "billion laughs" attack).
- Numbers are read as YAML 1.2 reads them: ``1e-3`` and ``2E5`` are floats (YAML 1.1, which PyYAML follows,
  makes them strings, found only deep inside a run).
- Only the safe constructors: no Python tags, no arbitrary objects.
- The file is at most :data:`MAX_BYTES` long.

Errors are :class:`YAMLStrictError` with the line and column of the problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

MAX_ALIASES = 32
MAX_BYTES = 1_000_000

# YAML 1.2 core schema floats that YAML 1.1 reads as strings: an exponent without a dot or without a sign
_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class YAMLStrictError(ValueError):
    """A YAML document the strict loader refuses; the message names the line and column."""


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YAMLStrictError(f"more than {MAX_ALIASES} aliases at line {mark.line + 1}, column "
                                      f"{mark.column + 1}: refused (nested aliases expand exponentially)")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:  # the keys written here (merged ones may be overridden, as YAML says)
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # the base class reports unhashable keys
                if key in seen:
                    mark = key_node.start_mark
                    raise YAMLStrictError(f"duplicate key {key!r} at line {mark.line + 1}, column {mark.column + 1}"
                                          f" (first at line {seen[key] + 1}): a later value would silently win")
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def load_yaml(path: Path) -> object:
    """Parse ``path`` with the strict loader; raise :class:`YAMLStrictError` (or ``yaml.YAMLError``)."""
    data = Path(path).read_bytes()
    if len(data) > MAX_BYTES:
        raise YAMLStrictError(f"{len(data)} bytes, more than the {MAX_BYTES} a claims file may have")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise YAMLStrictError(f"not UTF-8 text (byte {e.start})") from None
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
