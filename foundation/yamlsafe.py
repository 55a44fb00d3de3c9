"""Safe YAML loading that remembers where every value came from (a leaf module: imports nothing of ours).

Operators edit YAML by hand, so an error must point at the line. `load_yaml` returns plain Python data
plus a map from key path to line number; duplicate keys are errors (PyYAML silently keeps the last one);
`${NAME}`, `${NAME:-default}` and `${file:/path}` are substituted from the environment or a file, so
secrets stay out of the file. Substituted values are never echoed in error messages.

Two other treatments of `${...}` exist for cluster mode: `keep` leaves the references as written (the
camera registry publishes definitions that way, so each node resolves secrets from its own environment
and none travels through Kafka), and `placeholder` replaces every reference by a fixed stand-in without
reading the environment or any file (validating a file on a machine that holds none of the secrets).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from foundation.errors import ConfigError

KeyPath = tuple[str | int, ...]

_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

References = Literal["substitute", "keep", "placeholder"]
"""What `load_yaml` does with `${...}`: substitute it, keep it verbatim, or replace it by PLACEHOLDER."""

PLACEHOLDER = "placeholder"
"""Stand-in for every `${...}` reference when loading with `references="placeholder"`."""

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

    def __init__(self, loader: yaml.SafeLoader, doc: YamlDocument, env: Mapping[str, str],
                 references: References = "substitute") -> None:
        self.loader = loader
        self.doc = doc
        self.env = env
        self.references = references
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
        if isinstance(value, str) and "${" in value and self.references != "keep":
            value = self.substitute(value, node, path)
        return value

    def substitute(self, text: str, node: yaml.Node, path: KeyPath) -> str:
        self.doc.substituted.add(path)
        return _expand(text, self.env, self.references, f"{self.where(node)}: {format_path(path)}", self.problems)


def _expand(text: str, env: Mapping[str, str], references: References, where: str, problems: list[str]) -> str:
    """`text` with its `${...}` references resolved; problems (never the values) are appended."""

    def repl(match: re.Match[str]) -> str:
        if references == "placeholder":
            default = match.group("default")
            return default if default is not None else PLACEHOLDER
        if match.group("file"):
            secret_path = Path(match.group("file").strip())
            try:
                return secret_path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                problems.append(f"{where}: cannot read secret file {secret_path} ({exc.strerror})")
                return ""
        name = match.group("name")
        if name in env:
            return env[name]
        if match.group("default") is not None:
            return match.group("default")
        problems.append(
            f"{where}: environment variable {name} is not set (use ${{{name}:-default}} for an optional value)"
        )
        return ""

    return _SUBST.sub(repl, text)


def substitute_data(data: Any, source: str, env: Mapping[str, str] | None = None, *,
                    references: References = "substitute") -> Any:
    """Resolve `${...}` in every string of already-parsed data, such as a definition that was loaded with
    `references="keep"` and travelled elsewhere (a cluster node resolves a registry camera with its own
    environment). Returns new data; ConfigError names each unresolved reference by key path."""
    problems: list[str] = []
    environ = os.environ if env is None else env

    def walk(value: Any, path: KeyPath) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value and references != "keep":
            return _expand(value, environ, references, f"{source}: {format_path(path)}", problems)
        return value

    out = walk(data, ())
    if problems:
        raise ConfigError(f"{source}: {len(problems)} problem(s)", problems)
    return out


def load_yaml(text: str, source: str = "<string>", env: Mapping[str, str] | None = None, *,
              references: References = "substitute") -> YamlDocument:
    """Parse one YAML document safely. Raises ConfigError listing every problem found.

    `references` chooses what happens to `${...}` (see the module docstring); the default substitutes.
    """
    doc = YamlDocument(data=None, source=source)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.data = {}
            return doc
        builder = _Builder(loader, doc, os.environ if env is None else env, references)
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
