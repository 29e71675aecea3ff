"""The container files are checked the way they can be without a Docker engine: the compose
file against the Compose specification, the Kubernetes manifests against the API schemas, and
both for the habits a deployment relies on (no secrets, health checks, order of start)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
KUBERNETES_VERSION = "1.34.0"
DATABASE_SERVICES = ("authorization", "transactions", "billing", "admin")
ONE_SHOTS = {"provision", *(f"migrate-{s}" for s in DATABASE_SERVICES)}
SECRET_NAME = re.compile(r"PASSWORD|API_KEY|SECRET")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def manifests() -> list[tuple[Path, dict]]:
    return [
        (path, document)
        for path in K8S
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def test_compose_file_follows_the_compose_specification():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_holds_no_secret_values():
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:-[^}]*)?:\?[^}]*\}", str(value)), (name, key)
            # A URL's password, if any, must be an interpolation compose refuses to leave empty.
            stripped = re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "REQUIRED", str(value))
            stripped = re.sub(r"\$\{[A-Z_]+:-[^}]*\}", "DEFAULT", stripped)
            if "://" in stripped and "@" in stripped:
                credentials = stripped.split("://", 1)[1].split("@", 1)[0]
                if ":" in credentials:
                    assert credentials.split(":", 1)[1] == "REQUIRED", (name, key)


def test_compose_starts_things_in_order_and_watches_them():
    services = compose()["services"]
    for name, service in services.items():
        if name in ONE_SHOTS:
            assert service["restart"] == "no"
            continue
        assert "healthcheck" in service, name
    for svc in DATABASE_SERVICES:
        migrate = services[f"migrate-{svc}"]
        assert migrate["depends_on"]["provision"]["condition"] == "service_completed_successfully"
        runner = services[svc]
        assert runner["depends_on"][f"migrate-{svc}"]["condition"] == (
            "service_completed_successfully"
        )
        assert runner["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert "9000:9000" in services["gateway"]["ports"]
    assert "8000:8000" in services["admin"]["ports"]


@pytest.mark.parametrize("path", K8S, ids=lambda p: p.name)
def test_kubernetes_manifests_follow_the_api_schemas(path):
    for document in yaml.safe_load_all(path.read_text()):
        if document:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_deployments_are_limited_probed_and_unprivileged():
    kinds = {document["kind"] for _, document in manifests()}
    assert "Secret" not in kinds  # created by the operator, never committed
    deployments = [d for _, d in manifests() if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {
        f"opencpms-{s}" for s in (*DATABASE_SERVICES, "gateway")
    }
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["resources"]["limits"], deployment["metadata"]["name"]
            assert container["readinessProbe"]
            assert container["livenessProbe"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def known_variables() -> set[str]:
    """Every OPENCPMS_* name a service's settings or a command line reads."""
    names = {
        "OPENCPMS_AMQP_URL",
        "OPENCPMS_QUEUE_TYPE",
        "OPENCPMS_DB_ADMIN_URL",
        "OPENCPMS_DB_NAME",
    }
    names |= {f"OPENCPMS_{s.upper()}_DB_PASSWORD" for s in DATABASE_SERVICES}
    for svc in (*DATABASE_SERVICES, "gateway"):
        settings = importlib.import_module(f"opencpms_{svc}.settings")
        prefix = settings.ENV_PREFIX
        for field_name in settings.Settings.model_fields:
            names.add(prefix + field_name.upper())
    return names


def test_every_variable_set_is_one_the_code_reads():
    used: set[str] = set()
    for service in compose()["services"].values():
        used |= {k for k in (service.get("environment") or {}) if k.startswith("OPENCPMS_")}
    for _, document in manifests():
        text = yaml.safe_dump(document)
        used |= set(re.findall(r"\b(OPENCPMS_[A-Z_]+)\b(?=\s*:|\n)", text))
        used |= set(re.findall(r"name: (OPENCPMS_[A-Z_]+)", text))
    unknown = sorted(used - known_variables())
    assert unknown == []
