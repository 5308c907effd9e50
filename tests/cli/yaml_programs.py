"""Pulumi YAML programs written by the tests that need a program of their own
shape (many connectors, several stacks, one program across provider versions):
YAML needs no SDK, so the same file runs with any release of the provider."""

from __future__ import annotations

from pathlib import Path

import yaml

from cli.workspace import Pulumi

BASE_TYPE = "xpander:index:XpanderBaseRole"
CONNECTOR_TYPE = "xpander:index:XpanderConnectorRole"
CONNECTOR_PATH = "/xpander/connectors/"


def write_project(folder: Path, name: str, resources: dict, outputs: dict | None = None,
                  config: dict | None = None, variables: dict | None = None) -> Path:
    """Pulumi.yaml of project `name` in `folder` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc: dict = {"name": name, "runtime": "yaml"}
    for key, value in (("config", config), ("variables", variables), ("resources", resources), ("outputs", outputs)):
        if value:
            doc[key] = value
    (folder / "Pulumi.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder


def base_role(name: str, cluster: str | None = None, connector_path: str | None = None) -> dict:
    properties: dict = {"roleName": name}
    if cluster:
        properties["podIdentity"] = {"clusterName": cluster}
    if connector_path:
        properties["connectorPath"] = connector_path
    return {"type": BASE_TYPE, "properties": properties}


def s3_connector(name: str, base_arn: str, base_id: str | None = None, path_mode: bool = False) -> dict:
    """A read-only S3 connector on `base_arn`: granted by its own inline policy
    on the base role, or (`path_mode`) under CONNECTOR_PATH with no grant."""
    properties: dict = {"roleName": name, "baseRoleArn": base_arn}
    if base_id:
        properties["baseRoleId"] = base_id
    if path_mode:
        properties.update(path=CONNECTOR_PATH, grantBaseRole=False)
    properties["s3"] = {"buckets": [f"{name}-data"]}
    return {"type": CONNECTOR_TYPE, "properties": properties}


def stack(sim, root: Path, home: Path, project: Path, name: str = "dev", credentials: dict | None = None,
          config: dict[str, str] | None = None) -> Pulumi:
    """A new stack of `project`, its own backend under `root`, the provider running as `credentials`."""
    pulumi = Pulumi(root=root, project=project, aws_env=sim.provider_env(credentials), home=home, stack=name)
    pulumi.init(config or {})
    return pulumi
