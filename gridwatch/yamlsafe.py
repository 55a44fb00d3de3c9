"""Safe YAML loading that remembers where every value came from (a leaf module: imports nothing of ours).

Operators edit YAML by hand, so an error must point at the line. `load_yaml` returns plain Python data
plus a map from key path to line number; duplicate keys are errors (PyYAML silently keeps the last one);
`${NAME}`, `${NAME:-default}` and `${file:/path}` are substituted from the environment or a file, so
secrets stay out of the file. Substituted values are never echoed in error messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridwatch.errors import ConfigError

KeyPath = tuple[str | int, ...]

_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

_SUBST = re.compile(r"\$\{(?:file:(?P<file>[^}]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?)\}")


@dataclass
class YamlDocument:
    """Parsed YAML data with the line (1-based) of every key path, and the paths filled from secrets."""

    data: Any
    source: str
    lines: dict[KeyPath, int] = field(default_factory=dict)
    substituted: set[KeyPath] = field(default_factory=set)

    def line_of(self, path: KeyPath) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                return line
        return None


def format_path(path: KeyPath) -> str:
    """`('cameras', 0, 'source', 'url')` -> `cameras[0].source.url`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


class _Builder:
    """Turns a composed node tree into Python data, checking duplicates and recording lines."""

    def __init__(self, loader: yaml.SafeLoader, doc: YamlDocument, env: Mapping[str, str]) -> None:
        self.loader = loader
        self.doc = doc
        self.env = env
        self.problems: list[str] = []

    def where(self, node: yaml.Node) -> str:
        return f"{self.doc.source}:{node.start_mark.line + 1}"

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.doc.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
            self.problems.append(f"{self.where(node)}: {format_path(path)}: tag {node.tag} is not allowed")
            return None
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    self.problems.append(
                        f"{self.where(key_node)}: {format_path(path)}: keys must be text, got {key!r}"
                    )
                    continue
                if key in out:
                    first = self.doc.lines.get((*path, key))
                    self.problems.append(
                        f"{self.where(key_node)}: {format_path((*path, key))}: duplicate key "
                        f"(first defined on line {first}); each key may appear once"
                    )
                    continue
                self.doc.lines[(*path, key)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str) and "${" in value:
            value = self.substitute(value, node, path)
        return value

    def substitute(self, text: str, node: yaml.Node, path: KeyPath) -> str:
        def repl(match: re.Match[str]) -> str:
            if match.group("file"):
                secret_path = Path(match.group("file").strip())
                try:
                    return secret_path.read_text(encoding="utf-8").strip()
                except OSError as exc:
                    self.problems.append(
                        f"{self.where(node)}: {format_path(path)}: cannot read secret file "
                        f"{secret_path} ({exc.strerror})"
                    )
                    return ""
            name = match.group("name")
            if name in self.env:
                return self.env[name]
            if match.group("default") is not None:
                return match.group("default")
            self.problems.append(
                f"{self.where(node)}: {format_path(path)}: environment variable {name} is not set "
                f"(use ${{{name}:-default}} for an optional value)"
            )
            return ""

        self.doc.substituted.add(path)
        return _SUBST.sub(repl, text)


def load_yaml(text: str, source: str = "<string>", env: Mapping[str, str] | None = None) -> YamlDocument:
    """Parse one YAML document safely. Raises ConfigError listing every problem found."""
    doc = YamlDocument(data=None, source=source)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.data = {}
            return doc
        builder = _Builder(loader, doc, os.environ if env is None else env)
        doc.data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: not valid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    if builder.problems:
        raise ConfigError(f"{source}: {len(builder.problems)} problem(s)", builder.problems)
    return doc


def read_text(path: str | Path) -> str:
    """Read a config file as UTF-8; a missing or unreadable file is a ConfigError naming it."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{p}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc})") from exc


def load_yaml_file(path: str | Path, env: Mapping[str, str] | None = None) -> YamlDocument:
    """Read and parse a YAML file (see `load_yaml`)."""
    return load_yaml(read_text(path), source=str(path), env=env)
