"""The Python example's own Pulumi.yaml (`runtime: {name: python, options:
{toolchain: pip, virtualenv: venv}}`) run as a user runs it, through the real
CLI: no PULUMI_PYTHON_CMD, no PYTHONPATH, no interpreter of the tests on PATH.
The language host makes the virtualenv from requirements.txt on the first
command, the program runs on its interpreter, and so does a dynamic provider
the program declares (the engine tells the pulumi-python plugin which
virtualenv is the project's), as with a released Pulumi."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess

from awssim.harness import AwsSim
from cli.conftest import CANARY, EXAMPLE_CONFIG, EXAMPLES
from cli.workspace import REPO, Pulumi, copy_project, python_virtualenv


ROLES = {"xpander-base-role", "xpander-redshift-access", "xpander-eks-connector"}
# A resource whose provider is Python code of the program: it reports the
# interpreter environment it was run in.
DYNAMIC = '''

import sys

from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class _WhereAmI(ResourceProvider):
    def create(self, props):
        return CreateResult(id_="where-am-i", outs={"prefix": sys.prefix})


class WhereAmI(Resource):
    prefix: pulumi.Output[str]

    def __init__(self, name: str) -> None:
        super().__init__(_WhereAmI(), name, {"prefix": None})


pulumi.export("dynamicProviderPrefix", WhereAmI("where-am-i").prefix)
'''


def test_a_project_with_a_virtualenv_runs_on_its_own(sim: AwsSim, tmp_path, pulumi_home):
    project = copy_project(EXAMPLES["python"], tmp_path / "python", own_virtualenv=True)
    assert python_virtualenv(project) == "venv"
    venv = project / "venv"
    assert not venv.exists()
    # The example names the SDK by its path in the checkout, which a copy
    # elsewhere cannot; this one names a copy of it (pip builds a package in
    # its folder, and the checkout is not to be written to) and the pulumi
    # release the tests use.
    sdk = shutil.copytree(REPO / "sdk" / "python", tmp_path / "sdk-python")
    (project / "requirements.txt").write_text(f"pulumi=={importlib.metadata.version('pulumi')}\n{sdk}\n")
    with (project / "__main__.py").open("a") as program:
        program.write(DYNAMIC)

    pulumi = Pulumi(root=tmp_path / "user", project=project, aws_env=sim.provider_env(), home=pulumi_home,
                    test_python=False)
    env = pulumi.env()
    assert "PYTHONPATH" not in env
    no_sdk = subprocess.run(["python3", "-c", "import pulumi"], env=env, capture_output=True, text=True)
    assert no_sdk.returncode != 0, "the python3 on PATH must not have the SDK: the virtualenv is to provide it"
    pulumi.init(EXAMPLE_CONFIG, {"organizationId": CANARY})

    sim.clear_requests()
    pulumi.preview()
    assert [r for r in sim.requests() if r["mutating"]] == [], "pulumi preview must not change AWS"
    where = subprocess.run([venv / "bin" / "python", "-c", "import pulumi_xpander; print(pulumi_xpander.__file__)"],
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(venv)), "the first command made the virtualenv, with the SDK in it"

    pulumi.up()
    iam = sim.boto3_client("iam")
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == ROLES
    assert pulumi.outputs()["dynamicProviderPrefix"] == str(venv)
    pulumi.preview("--expect-no-changes")
    pulumi.destroy()
    assert iam.list_roles()["Roles"] == []
    assert CANARY not in pulumi.everything_written()
