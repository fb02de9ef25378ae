"""YAML reading for config files, with YAML 1.2 booleans.

Plain PyYAML follows YAML 1.1, where ``yes``, ``no``, ``on`` and ``off`` are booleans: a
keyword list ``[sí, no]`` would silently become ``["sí", False]``. Here only ``true`` and
``false`` are booleans, so staff can write answer words unquoted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class ConfigLoader(yaml.SafeLoader):
    pass


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=ConfigLoader)  # a SafeLoader subclass
