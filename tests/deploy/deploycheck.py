"""Static checks over deploy/: each returns a list of problems (empty when all is well).

The tests run them on the real files and on small broken examples, so a check that can never fail is
noticed. Nothing here needs Docker, a cluster or a GPU.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gridwatch.metric_names import CAMERA_STATES, METRICS, MetricSpec

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"

# Labels Prometheus or its service discovery attach to every scraped series (not exported by gridwatch).
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod", "node", "service", "container", "endpoint"})
# Series Prometheus produces itself and that the rules may use besides gridwatch's own.
PROMETHEUS_SERIES = frozenset({"up"})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
SHUTDOWN_DEADLINE_S = 30  # gridwatch's clean-shutdown deadline (DESIGN.md section 4, issue 9)
METRICS_PORT = 9108
SECRET_NAME_PATTERN = re.compile(r"PASSW|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|SASL", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------------- files

def load_yaml_docs(path: Path) -> list[Any]:
    """Every document of a (multi-document) YAML file, empty documents dropped."""
    with path.open(encoding="utf-8") as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc is not None]


def k8s_objects(docs: Iterable[Any]) -> list[dict[str, Any]]:
    return [d for d in docs if isinstance(d, dict) and "kind" in d and "apiVersion" in d]


# --------------------------------------------------------------------------------------------------- PromQL

KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
                      "unless", "offset", "atan2", "inf", "nan"})
GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
AGGREGATIONS = frozenset({"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
                          "bottomk", "topk", "quantile", "limitk", "limit_ratio"})
COUNTER_FUNCS = frozenset({"rate", "irate", "increase", "resets"})
GAUGE_FUNCS = frozenset({"deriv", "predict_linear", "delta", "idelta", "holt_winters"})

_TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)
  | (?P<number>\d+(?:\.\d+)?(?:ms|[smhdwy])?(?:\d+(?:ms|[smhdwy]))*(?:e[+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=(){}\[\],@])
  | (?P<space>\s+)
""", re.VERBOSE)


@dataclass
class Matcher:
    label: str
    op: str
    value: str


@dataclass
class Selector:
    metric: str
    matchers: list[Matcher] = field(default_factory=list)
    function: str | None = None  # the range function applied directly, e.g. rate(metric[5m])


@dataclass
class ParsedExpr:
    selectors: list[Selector]
    grouping_labels: set[str]
    errors: list[str]


def _tokens(expr: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            out.append(("bad", expr[pos]))
            pos += 1
            continue
        kind = m.lastgroup or "bad"
        if kind != "space":
            out.append((kind, m.group()))
        pos = m.end()
    return out


def parse_promql(expr: str) -> ParsedExpr:
    """A small PromQL reader: metric selectors with their matchers, grouping labels, lexical errors.

    Not a full parser (promtool checks syntax); enough to know which series and labels an expression uses.
    """
    toks = _tokens(expr)
    selectors: list[Selector] = []
    grouping: set[str] = set()
    errors = [f"unexpected character {t!r}" for kind, t in toks if kind == "bad"]
    pending_func: list[str | None] = []  # function name for each open parenthesis
    aggregation: str | None = None  # `sum by (x) (...)`: the name waits for its parenthesis
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else ""
        if kind == "ident" and text in AGGREGATIONS and nxt in ("by", "without"):
            aggregation = text
            i += 1
            continue
        if kind == "ident" and text in GROUPING and nxt == "(":
            i = _read_grouping(toks, i + 2, grouping)
            continue
        if text == "[":  # range or subquery: durations and Grafana variables only
            i = _skip_past(toks, i, "]")
            continue
        if kind == "ident" and nxt == "(":
            pending_func.append(text)
            i += 2
            continue
        if text == "(":
            pending_func.append(aggregation)
            aggregation = None
        elif text == ")":
            if pending_func:
                pending_func.pop()
        elif kind == "ident" and text.lower() not in KEYWORDS:
            sel = Selector(text, function=pending_func[-1] if pending_func else None)
            i = _read_matchers(toks, i + 1, sel)
            selectors.append(sel)
            continue
        i += 1
    return ParsedExpr(selectors, grouping, errors)


def _read_grouping(toks: list[tuple[str, str]], i: int, grouping: set[str]) -> int:
    """Add the labels of `by (...)`/`without (...)` from token `i` on; the index past its `)`."""
    while i < len(toks) and toks[i][1] != ")":
        if toks[i][0] == "ident":
            grouping.add(toks[i][1])
        i += 1
    return i + 1


def _skip_past(toks: list[tuple[str, str]], i: int, closing: str) -> int:
    while i < len(toks) and toks[i][1] != closing:
        i += 1
    return i + 1


def _read_matchers(toks: list[tuple[str, str]], i: int, sel: Selector) -> int:
    """Read a selector's `{label op "value", ...}` from token `i` (if there is one); the index after it."""
    if i >= len(toks) or toks[i][1] != "{":
        return i
    i += 1
    while i < len(toks) and toks[i][1] != "}":
        if toks[i][0] == "ident" and i + 2 < len(toks) and toks[i + 2][0] == "string":
            sel.matchers.append(Matcher(toks[i][1], toks[i + 1][1], toks[i + 2][1][1:-1]))
            i += 3
        else:
            i += 1
    return i + 1


def _spec_for(name: str, specs: Mapping[str, MetricSpec]) -> tuple[MetricSpec | None, str]:
    """The MetricSpec a series name belongs to, and the histogram suffix it carries ("" if none)."""
    if name in specs:
        return specs[name], ""
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and base in specs and specs[base].type == "histogram":
            return specs[base], suffix
    return None, ""


def promql_problems(expr: str, where: str, metrics: Sequence[MetricSpec] = METRICS,
                    extra_series: frozenset[str] = PROMETHEUS_SERIES) -> list[str]:
    """Series, labels and label values an expression uses that gridwatch does not export."""
    specs = {m.name: m for m in metrics}
    parsed = parse_promql(expr)
    problems = [f"{where}: {e}" for e in parsed.errors]
    labels_in_expr: set[str] = set(TARGET_LABELS)
    for sel in parsed.selectors:
        if sel.metric in extra_series:
            labels_in_expr.update({"job", "instance"})
            continue
        spec, suffix = _spec_for(sel.metric, specs)
        if spec is None:
            problems.append(f"{where}: unknown metric {sel.metric!r}")
            continue
        allowed = set(spec.labels) | TARGET_LABELS | ({"le"} if suffix == "_bucket" else set())
        labels_in_expr |= allowed
        problems += _matcher_problems(sel, spec, allowed, where)
        is_counter_like = spec.type == "counter" or suffix in HISTOGRAM_SUFFIXES
        if sel.function in COUNTER_FUNCS and not is_counter_like:
            problems.append(f"{where}: {sel.function}() over {sel.metric}, a {spec.type}")
        if sel.function in GAUGE_FUNCS and spec.type != "gauge":
            problems.append(f"{where}: {sel.function}() over {sel.metric}, a {spec.type}")
        if spec.type == "histogram" and suffix == "":
            problems.append(f"{where}: histogram {sel.metric} used without _bucket/_sum/_count")
    for label in sorted(parsed.grouping_labels - labels_in_expr):
        problems.append(f"{where}: grouping label {label!r} is on none of the expression's series")
    return problems


def _matcher_problems(sel: Selector, spec: MetricSpec, allowed: set[str], where: str) -> list[str]:
    """Labels a selector matches on that its series lacks, and camera states that do not exist."""
    problems: list[str] = []
    for m in sel.matchers:
        if m.label not in allowed:
            problems.append(f"{where}: {sel.metric} has no label {m.label!r} "
                            f"(labels: {sorted(spec.labels)})")
        if m.label == "state" and m.op in ("=", "=~", "!=", "!~"):
            values = m.value.split("|") if "~" in m.op else [m.value]
            unknown = [v for v in values if re.fullmatch(r"[a-z_]+", v) and v not in CAMERA_STATES]
            if unknown:
                problems.append(f"{where}: camera state(s) {unknown} not in CAMERA_STATES")
    return problems


# -------------------------------------------------------------------------------------------------- Grafana

GRAFANA_BUILTIN_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def dashboard_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries(dashboard: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every query variable (label_values unwrapped)."""
    out: list[tuple[str, str]] = []
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            if isinstance(target, Mapping) and "expr" in target:
                out.append((f"panel {panel.get('title')!r} target {target.get('refId')}", target["expr"]))
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var.get("query")
        text = query.get("query", "") if isinstance(query, Mapping) else str(query or "")
        m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*", text, re.DOTALL)
        if m:
            # the label must exist on the series: express it as a grouping
            out.append((f"variable {var.get('name')}", f"count by ({m.group(2)}) ({m.group(1)})"))
        elif text:
            out.append((f"variable {var.get('name')}", text))
    return out


def substitute_grafana_vars(expr: str) -> str:
    """Make a dashboard query plain PromQL (for promtool): built-in intervals and regex variables."""
    for name, value in GRAFANA_BUILTIN_VARS.items():
        expr = expr.replace(name, value)
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", ".*", expr)


def dashboard_problems(dashboard: Mapping[str, Any], metrics: Sequence[MetricSpec] = METRICS) -> list[str]:
    problems: list[str] = []
    for panel in dashboard_panels(dashboard):
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets")
        if not targets or not all(isinstance(t, Mapping) and str(t.get("expr", "")).strip() for t in targets):
            problems.append(f"panel {panel.get('title')!r}: every target needs a PromQL expr")
    for where, expr in dashboard_queries(dashboard):
        problems += promql_problems(expr, where, metrics)
    return problems


# ---------------------------------------------------------------------------------------------------- rules

def rule_exprs(rules_doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for group in rules_doc.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            out.append((f"rule {name}", str(rule.get("expr", ""))))
    return out


def rules_problems(rules_doc: Mapping[str, Any], metrics: Sequence[MetricSpec] = METRICS) -> list[str]:
    problems: list[str] = []
    for where, expr in rule_exprs(rules_doc):
        problems += promql_problems(expr, where, metrics)
    for group in rules_doc.get("groups", []):
        for rule in group.get("rules", []):
            if "alert" not in rule:
                continue
            name = rule["alert"]
            if not rule.get("for"):
                problems.append(f"rule {name}: no `for:`")
            if rule.get("labels", {}).get("severity") not in ("warning", "critical"):
                problems.append(f"rule {name}: severity label must be warning or critical")
            for key in ("summary", "description"):
                if not str(rule.get("annotations", {}).get(key, "")).strip():
                    problems.append(f"rule {name}: no {key} annotation")
    return problems


# ----------------------------------------------------------------------------------------------- Kubernetes

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"})


def pod_spec(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = obj.get("kind")
    if kind == "Pod":
        spec: dict[str, Any] = obj.get("spec", {})
        return spec
    if kind == "CronJob":
        return dict(obj["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    if kind in WORKLOAD_KINDS:
        return dict(obj["spec"]["template"]["spec"])
    return None


def _containers(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def pod_security_problems(obj: Mapping[str, Any]) -> list[str]:
    """The Pod Security Standards "restricted" profile, plus a read-only root filesystem."""
    spec = pod_spec(obj)
    if spec is None:
        return []
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    problems: list[str] = []
    pod_sc = spec.get("securityContext", {})
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            problems.append(f"{name}: {key} is set")
    for vol in spec.get("volumes", []):
        if "hostPath" in vol:
            problems.append(f"{name}: hostPath volume {vol.get('name')}")
    if pod_sc.get("runAsUser") == 0:
        problems.append(f"{name}: pod runAsUser is 0")
    for c in _containers(spec):
        problems += _container_security_problems(f"{name} container {c.get('name')}", c, pod_sc)
    return problems


def _container_security_problems(cname: str, c: Mapping[str, Any], pod_sc: Mapping[str, Any]) -> list[str]:
    """One container against the restricted profile (its own securityContext over the pod's)."""
    problems: list[str] = []
    sc = c.get("securityContext", {})

    def eff(key: str) -> Any:
        return sc.get(key, pod_sc.get(key))

    if eff("runAsNonRoot") is not True:
        problems.append(f"{cname}: runAsNonRoot is not true")
    uid = eff("runAsUser")
    if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
        problems.append(f"{cname}: runAsUser must be a fixed non-zero UID, got {uid!r}")
    seccomp = (eff("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append(f"{cname}: seccompProfile.type is {seccomp!r}, not RuntimeDefault")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{cname}: allowPrivilegeEscalation is not false")
    if sc.get("privileged"):
        problems.append(f"{cname}: privileged")
    caps = sc.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        problems.append(f"{cname}: capabilities do not drop ALL")
    if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
        problems.append(f"{cname}: adds capabilities {caps.get('add')}")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{cname}: readOnlyRootFilesystem is not true")
    return problems


def env_secret_problems(obj: Mapping[str, Any]) -> list[str]:
    """Secret-looking environment variables must come from a Secret, never be written inline."""
    spec = pod_spec(obj)
    if spec is None:
        return []
    problems: list[str] = []
    for c in _containers(spec):
        for env in c.get("env", []):
            if SECRET_NAME_PATTERN.search(env["name"]) and "secretKeyRef" not in env.get("valueFrom", {}):
                problems.append(f"container {c.get('name')}: {env['name']} is not taken from a Secret")
            if "value" in env and SECRET_NAME_PATTERN.search(env["name"]):
                problems.append(f"container {c.get('name')}: {env['name']} has an inline value")
        for src in c.get("envFrom", []):
            if "configMapRef" in src:
                problems.append(f"container {c.get('name')}: envFrom a ConfigMap "
                                "(use the mounted config file)")
    return problems


# ------------------------------------------------------------------------------------------------ container

@dataclass
class Dockerfile:
    instructions: list[tuple[str, str]]  # (INSTRUCTION, arguments), continuation lines joined

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        joined = re.sub(r"\\\n", " ", text)
        out: list[tuple[str, str]] = []
        for raw in joined.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
        return cls(out)

    def all(self, instruction: str) -> list[str]:
        return [args for ins, args in self.instructions if ins == instruction]

    def args(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for a in self.all("ARG"):
            name, _, default = a.partition("=")
            out[name.strip()] = default.strip()
        return out

    def stages(self) -> list[list[tuple[str, str]]]:
        stages: list[list[tuple[str, str]]] = []
        for ins, args in self.instructions:
            if ins == "FROM":
                stages.append([])
            if stages:
                stages[-1].append((ins, args))
        return stages


def _image_problems(image: str, where: str) -> list[str]:
    problems: list[str] = []
    if "@sha256:" in image:
        return problems
    name_tag = image.rsplit("/", 1)[-1]
    if ":" not in name_tag:
        problems.append(f"{where}: image {image!r} has no tag (implies latest)")
    elif name_tag.split(":", 1)[1] in ("latest", ""):
        problems.append(f"{where}: image {image!r} uses the latest tag")
    return problems


def dockerfile_problems(text: str) -> list[str]:
    df = Dockerfile.parse(text)
    problems: list[str] = []
    args = df.args()
    stages = df.stages()
    if not stages:
        return ["no FROM"]
    problems += _base_image_problems(df, args)
    problems += _user_problems(stages[-1])
    if not any(ins == "HEALTHCHECK" and "NONE" not in a.upper() for ins, a in stages[-1]):
        problems.append("final stage has no HEALTHCHECK")
    problems += _pip_problems(df)
    return problems


def _base_image_problems(df: Dockerfile, args: Mapping[str, str]) -> list[str]:
    """Every FROM image (ARGs expanded, earlier stages skipped) pinned by tag or digest."""
    problems: list[str] = []
    stage_names: set[str] = set()
    for ins, a in df.instructions:
        if ins != "FROM":
            continue
        words = [w for w in a.split() if not w.startswith("--")]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
        if image not in stage_names:
            problems += _image_problems(image, "FROM")
        if len(words) >= 3 and words[1].upper() == "AS":
            stage_names.add(words[2])
    return problems


def _user_problems(final: list[tuple[str, str]]) -> list[str]:
    """The final stage runs as a numeric non-root user (and group)."""
    users = [a for ins, a in final if ins == "USER"]
    if not users:
        return ["final stage has no USER (runs as root)"]
    problems: list[str] = []
    uid, _, gid = users[-1].partition(":")
    if not uid.isdigit() or int(uid) == 0:
        problems.append(f"USER {users[-1]!r} is not a numeric non-root UID")
    if gid and (not gid.isdigit() or int(gid) == 0):
        problems.append(f"USER {users[-1]!r}: group is not a numeric non-root GID")
    return problems


def _pip_problems(df: Dockerfile) -> list[str]:
    """Every pip install comes from a hashed lock (or is a single --no-deps package), the GPU lock included."""
    problems: list[str] = []
    runs = " ; ".join(df.all("RUN"))
    installs = [seg for seg in re.split(r"&&|;|\|\|", runs) if re.search(r"\bpip\b.*\binstall\b", seg)]
    if not installs:
        problems.append("no pip install")
    for seg in installs:
        words = shlex.split(seg.replace("\\", " "))
        reqs = [words[k + 1] for k, w in enumerate(words[:-1]) if w in ("-r", "--requirement")]
        if reqs and "--require-hashes" not in words:
            problems.append(f"pip install -r {reqs} without --require-hashes")
        if not reqs and "--no-deps" not in words:
            problems.append(f"pip install of {words[-1]!r} resolves dependencies outside the lock "
                            "(no --no-deps)")
    if not any(re.search(r"--require-hashes\b.*requirements-gpu\.lock", seg) for seg in installs):
        problems.append("the GPU lock is not installed with --require-hashes")
    return problems


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def lock_entries(text: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes) of a pip requirements lock with --hash options."""
    joined = re.sub(r"\\\n", " ", text)
    out: dict[str, tuple[str, list[str]]] = {}
    for line in joined.splitlines():
        stripped = line.split(" #", 1)[0].strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _PIN.match(stripped)
        if m is None:
            out[stripped] = ("", [])  # not an exact pin: reported by lock_problems
            continue
        name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
        out[name] = (m.group(3), re.findall(r"--hash=sha256:([0-9a-f]{64})\b", stripped))
    return out


def lock_problems(text: str) -> list[str]:
    problems: list[str] = []
    entries = lock_entries(text)
    if not entries:
        problems.append("lock has no requirements")
    for name, (version, hashes) in entries.items():
        if not version:
            problems.append(f"{name!r} is not pinned with ==")
        elif not hashes:
            problems.append(f"{name}=={version} has no sha256 hash")
    return problems


def systemd_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """section -> key -> values (repeated keys kept in order) of a systemd unit file."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in re.sub(r"\\\n", " ", text).splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            out.setdefault(section, {})
            continue
        key, _, value = line.partition("=")
        out.setdefault(section, {}).setdefault(key.strip(), []).append(value.strip())
    return out


def env_file(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        out[key.strip()] = value.strip()
    return out


def config_env_refs(text: str) -> set[str]:
    """Environment variables a gridwatch config references as ${NAME} (not ${file:...})."""
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", text))
