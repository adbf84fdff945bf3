"""deploy/ stays true to the code: settings, commands, images, probes.

Every ``MAILLON_*`` name in deploy/ (and docs/deploy.md) is a node setting or a listed
exception; every ``maillon …`` invocation parses with the real CLI parser; the compose file
and the Kubernetes manifests are valid YAML with pinned images, the expected services,
probes and security settings; the values they give the node are valid settings.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from node.cli import build_parser
from node.runtime import build_runtime
from node.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"
DOC = ROOT / "docs" / "deploy.md"

SETTINGS = {f"MAILLON_{name.upper()}" for name in Settings.model_fields}
#: ``MAILLON_*`` names allowed in deploy/ although they are not node settings.
NOT_SETTINGS = {
    # The host name Caddy serves (deploy/Caddyfile); only the caddy service reads it.
    "MAILLON_DOMAIN",
}
#: Read by the test tooling only (tests/, scripts/, Makefile); deploy/ has no use for them.
TEST_ONLY = {"MAILLON_TEST_DATABASE_URL", "MAILLON_MEILI_BIN", "MAILLON_CHROMIUM"}
#: Variables of deploy/.env that compose reads itself (never given to the node as such).
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "IMAGE"}
#: Secrets: empty or placeholders in every committed file.
SECRETS = {"MAILLON_SECRET_KEY", "MAILLON_MEILI_KEY", "POSTGRES_PASSWORD"}

MAILLON_SERVICES = {"migrate", "web", "worker"}
COMPOSE_SERVICES = {*MAILLON_SERVICES, "postgres", "meilisearch", "caddy"}
MEILI_IMAGE = "getmeili/meilisearch:v1.21.0"
UNITS = ("maillon-web.service", "maillon-worker@.service", "maillon-migrate.service")
SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1", "\\"}
PINNED_TAG = re.compile(r"v?\d+(\.\d+)+")
NAME = re.compile(r"\bMAILLON_[A-Z0-9_]*[A-Z0-9]\b")


def deploy_files() -> list[Path]:
    files = sorted(path for path in DEPLOY.rglob("*") if path.is_file() and committed(path))
    return [*files, DOC]


def committed(path: Path) -> bool:
    """Not one of the operator's filled-in files that deploy/.gitignore keeps out of git."""
    if path.name == ".env":
        return False
    return not ("secret" in path.name and path.name != "secret.example.yaml")


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- settings -----------------------------------------------------------------------------


def test_every_maillon_name_in_deploy_is_a_setting_or_a_listed_exception() -> None:
    found: dict[str, set[str]] = {}
    for path in deploy_files():
        for name in NAME.findall(path.read_text()):
            found.setdefault(name, set()).add(rel(path))
    unknown = {name: sorted(where) for name, where in found.items() if name not in SETTINGS}
    allowed = {name: where for name, where in unknown.items() if name in NOT_SETTINGS}
    assert {n: w for n, w in unknown.items() if n not in allowed} == {}
    # The exceptions are real: MAILLON_DOMAIN is used, and by Caddy.
    assert "deploy/Caddyfile" in found["MAILLON_DOMAIN"]
    assert not (found.keys() & TEST_ONLY), "test-only variables have no place in deploy/"
    # The files do configure the node: the key settings appear in every kind of file.
    for setting in ("MAILLON_SECRET_KEY", "MAILLON_PUBLIC_URL", "MAILLON_DATABASE_URL"):
        assert {
            "deploy/.env.example",
            "deploy/systemd/maillon.env.example",
            "deploy/kubernetes/secret.example.yaml"
            if setting != "MAILLON_PUBLIC_URL"
            else "deploy/kubernetes/configmap.yaml",
        } <= found[setting], setting


def test_a_non_setting_maillon_variable_does_not_stop_the_node(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # compose hands all of deploy/.env to the node containers, MAILLON_DOMAIN included.
    monkeypatch.chdir(tmp_path)
    for name in NOT_SETTINGS:
        monkeypatch.setenv(name, "agenda.example.org")
    Settings()


def test_env_examples_hold_no_secret_and_only_known_names() -> None:
    for path in (DEPLOY / ".env.example", SYSTEMD / "maillon.env.example"):
        for name, value, _ in env_assignments(path):
            assert name in SETTINGS | NOT_SETTINGS | COMPOSE_ONLY, f"{rel(path)}: {name}"
            if name in SECRETS:
                assert value == "", f"{rel(path)}: {name} must be left empty"
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert ".env" in ignored


def test_the_values_deploy_gives_the_node_are_valid_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for path in (DEPLOY / ".env.example", SYSTEMD / "maillon.env.example"):
        values = {n: v for n, v, _ in env_assignments(path) if n in SETTINGS and v}
        assert_valid_settings(monkeypatch, values, rel(path))


def env_assignments(path: Path) -> list[tuple[str, str, bool]]:
    """``NAME=value`` lines, commented out (``# NAME=value``: an optional one) or not."""
    found = []
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            found.append((match[2], match[3], match[1] is None))
    return found


def assert_valid_settings(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], where: str
) -> Settings:
    with monkeypatch.context() as patch:
        for name in SETTINGS:
            patch.delenv(name, raising=False)
        for name, value in values.items():
            patch.setenv(name, value)
        try:
            return Settings()
        except ValueError as error:  # pydantic's ValidationError
            problem = str(error)
    pytest.fail(f"{where}: {problem}")


# --- commands -----------------------------------------------------------------------------


def parse(argv: list[str], where: str) -> argparse.Namespace:
    """The argv of one ``maillon`` invocation, parsed by the real parser (or a failure)."""
    parser = build_parser()
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            return parser.parse_args(argv)
    except SystemExit:
        pass
    pytest.fail(f"{where}: `maillon {shlex.join(argv)}` does not parse: {errors.getvalue()}")


def invocations_in_text(text: str) -> Iterator[list[str]]:
    """``maillon <command> …`` in code: fenced blocks, `inline code`, unit Exec lines.

    A token named ``maillon`` (or a path ending in ``/maillon``) followed by a lower-case
    word starts an invocation; it runs to the end of the line or a shell operator.
    """
    fenced = False
    lines = text.replace("\\\n", " ").splitlines()
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        snippets = re.findall(r"`([^`]+)`", line)
        if fenced or re.match(r"\s*Exec\w*=", line):
            snippets.append(line)
        for snippet in snippets:
            yield from invocations_in_snippet(snippet)


def invocations_in_snippet(snippet: str) -> Iterator[list[str]]:
    try:
        tokens = shlex.split(snippet, comments=True)
    except ValueError:
        tokens = snippet.split()
    for index, token in enumerate(tokens[:-1]):
        if token.rsplit("/", 1)[-1] != "maillon":
            continue
        if not re.fullmatch(r"[a-z][a-z-]*", tokens[index + 1]):
            continue
        argv: list[str] = []
        for word in tokens[index + 1 :]:
            if word in SHELL_OPERATORS or word.startswith((">", "2>")):
                break
            argv.append(word)
        yield argv


def text_invocations() -> Iterator[tuple[str, list[str]]]:
    for path in deploy_files():
        for argv in invocations_in_text(path.read_text()):
            yield rel(path), argv


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    lines = [
        line for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]  # fmt: skip
    joined = "\n".join(lines).replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def image_command() -> tuple[list[str], list[str]]:
    instructions = dockerfile()
    entrypoint = [json.loads(rest) for key, rest in instructions if key == "ENTRYPOINT"]
    command = [json.loads(rest) for key, rest in instructions if key == "CMD"]
    assert len(entrypoint) == 1 and len(command) == 1, "one exec-form ENTRYPOINT and CMD"
    return entrypoint[0], command[0]


def test_every_maillon_invocation_in_deploy_parses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: set[tuple[str, str]] = set()
    kinds: dict[str, str] = {}
    for where, argv in text_invocations():
        args = parse(argv, where)
        seen.add((where, argv[0]))
        for kind in getattr(args, "kinds", None) or []:
            kinds[kind] = where
    entrypoint, command = image_command()
    assert entrypoint == ["maillon"]
    parse(command, "deploy/Dockerfile CMD")
    for unit in UNITS:
        assert any(where == f"deploy/systemd/{unit}" for where, _ in seen), unit
    # The extraction finds what the docs promise (so this test cannot pass on nothing).
    assert {
        ("deploy/systemd/maillon-web.service", "serve"),
        ("deploy/systemd/maillon-worker@.service", "worker"),
        ("deploy/systemd/maillon-migrate.service", "migrate"),
        ("deploy/systemd/README.md", "worker"),
        ("docs/deploy.md", "reindex"),
        ("docs/deploy.md", "admin"),
    } <= seen
    # `worker --kinds` names job kinds that have a handler.
    monkeypatch.chdir(tmp_path)
    runtime = build_runtime(load_settings(database_url=f"sqlite:///{tmp_path / 'k.db'}"))
    try:
        registered = set(runtime.registry.kinds)
    finally:
        runtime.close()
    assert {kind: where for kind, where in kinds.items() if kind not in registered} == {}


def test_the_image_runs_the_web_process_alone_as_a_non_root_user() -> None:
    instructions = dockerfile()
    stages = [rest for key, rest in instructions if key == "FROM"]
    assert len(stages) >= 2, "multi-stage"
    assert all(stage.split()[0] == "python:3.11-slim" for stage in stages)
    _, command = image_command()
    args = parse(command, "deploy/Dockerfile CMD")
    assert (args.host, args.port, args.no_workers) == ("0.0.0.0", 8000, True)
    assert ("EXPOSE", str(args.port)) in instructions
    users = [rest for key, rest in instructions if key == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    health = [rest for key, rest in instructions if key == "HEALTHCHECK"]
    assert len(health) == 1
    assert "urllib" in health[0] and f"127.0.0.1:{args.port}/healthz" in health[0]
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignore or "*" in ignore


def test_the_systemd_units_read_one_env_file_and_are_hardened() -> None:
    units = {name: unit_file(SYSTEMD / name) for name in UNITS}
    for name, unit in units.items():
        service = unit["Service"]
        assert service["EnvironmentFile"] == ["/etc/maillon/maillon.env"], name
        assert service["User"] == ["maillon"] or service.get("DynamicUser") == ["yes"], name
        for key, value in {
            "NoNewPrivileges": "yes",
            "ProtectSystem": "strict",
            "ReadWritePaths": "/var/lib/maillon",
            "WorkingDirectory": "/var/lib/maillon",
        }.items():
            assert service.get(key) == [value], f"{name}: {key}"
    assert units["maillon-migrate.service"]["Service"]["Type"] == ["oneshot"]
    for name in ("maillon-web.service", "maillon-worker@.service"):
        unit = units[name]["Unit"]
        assert "maillon-migrate.service" in " ".join(unit.get("Requires", [])), name
        assert "maillon-migrate.service" in " ".join(unit.get("After", [])), name


def unit_file(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections → keys → values (systemd allows a key several times)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


# --- compose ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yaml() -> ModuleType:
    return pytest.importorskip(
        "yaml", reason="PyYAML is not installed: the compose and Kubernetes YAML go unchecked"
    )


@pytest.fixture(scope="module")
def compose(yaml: ModuleType) -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def interpolated(value: str) -> str:
    """A compose value with ``${VAR:-default}`` as its default and ``${VAR…}`` as ``x``."""
    value = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Z0-9_]+(?:[:?][^}]*)?\}", "x", value)


def test_compose_has_the_services_with_pinned_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == COMPOSE_SERVICES
    for name, service in services.items():
        image = interpolated(service["image"])
        repository, _, tag = image.rpartition(":")
        assert repository and PINNED_TAG.fullmatch(tag), f"{name}: {image} is not pinned"
    assert services["meilisearch"]["image"] == MEILI_IMAGE
    assert services["postgres"]["image"].startswith("postgres:16.")
    assert services["caddy"]["image"].startswith("caddy:2.")
    for name in ("postgres", "meilisearch"):
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["volumes"], name


def test_compose_runs_the_node_commands_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    entrypoint, _ = image_command()
    commands = {}
    for name in MAILLON_SERVICES:
        service = services[name]
        assert "build" in service and service["build"]["dockerfile"] == "deploy/Dockerfile"
        argv = [*service.get("entrypoint", entrypoint), *service["command"]][1:]
        commands[name] = parse(argv, f"deploy/compose.yaml {name}")
    assert commands["migrate"].command.__name__ == "cmd_migrate"
    assert services["migrate"]["restart"] == "no"
    assert commands["web"].no_workers and commands["web"].host == "0.0.0.0"
    assert commands["worker"].command.__name__ == "cmd_worker"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "caddy"):
        assert "container_name" not in services[name], f"{name} must be able to scale"


def test_compose_configures_the_node_only_with_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    services = compose["services"]
    for name in MAILLON_SERVICES:
        environment = services[name]["environment"]
        assert set(environment) <= SETTINGS, name
        values = {key: interpolated(str(value)) for key, value in environment.items()}
        settings = assert_valid_settings(monkeypatch, values, f"deploy/compose.yaml {name}")
        assert settings.search == "meilisearch"
        assert settings.meili_url == "http://meilisearch:7700"
        assert settings.database_url.startswith("postgresql+psycopg://maillon:")
        assert "@postgres:5432/maillon" in settings.database_url
        assert services[name]["env_file"] == ".env"
    assert set(services["caddy"]["environment"]) == NOT_SETTINGS
    # Everything compose reads from deploy/.env is listed in .env.example.
    listed = {name for name, _, _ in env_assignments(DEPLOY / ".env.example")}
    wanted = set(re.findall(r"\$\{([A-Z0-9_]+)", (DEPLOY / "compose.yaml").read_text()))
    assert wanted - listed == set()


def test_caddy_serves_the_domain_and_proxies_to_web(compose: dict[str, Any]) -> None:
    caddy = compose["services"]["caddy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    text = (DEPLOY / "Caddyfile").read_text()
    assert re.search(r"^\{\$MAILLON_DOMAIN\} \{", text, re.MULTILINE)
    assert re.search(r"name web\s+port 8000", text)
    assert "8000" in compose["services"]["web"]["expose"]


# --- Kubernetes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests(yaml: ModuleType) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for path in sorted(filter(committed, K8S.glob("*.yaml"))):
        documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert documents, rel(path)
        found[path.name] = documents
    return found


def objects(manifests: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], Any]:
    return {
        (doc["kind"], doc["metadata"]["name"]): doc
        for name, docs in manifests.items()
        if name != "kustomization.yaml"
        for doc in docs
    }


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def test_kustomization_lists_every_manifest_but_the_secret_example(
    manifests: dict[str, list[dict[str, Any]]],
) -> None:
    (kustomization,) = manifests["kustomization.yaml"]
    assert kustomization["kind"] == "Kustomization"
    resources = kustomization["resources"]
    assert all((K8S / resource).is_file() for resource in resources)
    expected = set(manifests) - {"kustomization.yaml", "secret.example.yaml"}
    assert set(resources) == expected
    for name, documents in manifests.items():
        for doc in documents:
            if name != "kustomization.yaml":
                assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], name
                assert "namespace" not in doc["metadata"], f"{name}: namespace-free"


def test_kubernetes_settings_are_settings_and_valid(
    manifests: dict[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    found = objects(manifests)
    config = found["ConfigMap", "maillon-config"]["data"]
    secret = found["Secret", "maillon-secrets"]["stringData"]
    assert set(config) | set(secret) <= SETTINGS
    assert "MAILLON_SECRET_KEY" in secret and "MAILLON_DATABASE_URL" in secret
    settings = assert_valid_settings(
        monkeypatch, {**config, **secret}, "deploy/kubernetes configmap + secret"
    )
    assert settings.search == "meilisearch" and settings.workers == 0
    for (kind, name), doc in found.items():
        if kind not in {"Deployment", "Job", "StatefulSet"}:
            continue
        for container in pod_spec(doc)["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] == "maillon-config", name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] == "maillon-secrets", name
            for variable in container.get("env", []):
                key = variable.get("valueFrom", {}).get("secretKeyRef")
                if key:
                    assert key["name"] == "maillon-secrets" and key["key"] in secret, name


def test_kubernetes_workloads_run_node_commands_pinned_limited_and_non_root(
    manifests: dict[str, list[dict[str, Any]]],
) -> None:
    found = objects(manifests)
    entrypoint, _ = image_command()
    uid = int(next(rest for key, rest in reversed(dockerfile()) if key == "USER").split(":")[0])
    commands = {}
    for (kind, name), doc in found.items():
        if kind not in {"Deployment", "Job", "StatefulSet"}:
            continue
        pod = pod_spec(doc)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            image = container["image"]
            repository, _, tag = image.rpartition(":")
            assert repository and PINNED_TAG.fullmatch(tag), f"{name}: {image} is not pinned"
            resources = container["resources"]
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[part]), f"{name}: {part}"
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            if repository == "maillon":
                assert pod["securityContext"]["runAsUser"] == uid, name
                argv = [*container.get("command", entrypoint), *container["args"]]
                assert argv[0] == "maillon", name
                commands[name] = parse(argv[1:], f"deploy/kubernetes {name}")
            if repository == "getmeili/meilisearch":
                assert image == MEILI_IMAGE
    assert set(commands) == {"maillon-web", "maillon-worker", "maillon-migrate"}
    assert commands["maillon-web"].no_workers and commands["maillon-web"].port == 8000
    assert commands["maillon-worker"].command.__name__ == "cmd_worker"
    assert commands["maillon-worker"].concurrency == 2
    assert commands["maillon-migrate"].command.__name__ == "cmd_migrate"
    (kustomization,) = manifests["kustomization.yaml"]
    assert [image["name"] for image in kustomization["images"]] == ["maillon"]


def test_the_web_deployment_probes_health_and_readiness(
    manifests: dict[str, list[dict[str, Any]]],
) -> None:
    found = objects(manifests)
    web = found["Deployment", "maillon-web"]
    assert web["spec"]["replicas"] >= 2
    (container,) = pod_spec(web)["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8000}
    readiness = container["readinessProbe"]["httpGet"]
    liveness = container["livenessProbe"]["httpGet"]
    assert (readiness["path"], readiness["port"]) == ("/readyz", "http")
    assert (liveness["path"], liveness["port"]) == ("/healthz", "http")
    labels = pod_spec_labels(web)
    service = found["Service", "maillon-web"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    ingress = found["Ingress", "maillon"]
    assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]
    assert ingress["spec"]["tls"]
    backends = [
        path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == [{"name": "maillon-web", "port": {"name": "http"}}]
    job = found["Job", "maillon-migrate"]
    assert pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}


def pod_spec_labels(workload: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items()
    return labels
