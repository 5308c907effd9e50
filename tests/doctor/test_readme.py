"""The doctor report in README.md ("Diagnosing an existing setup") is real:
this builds the same broken setup on awssim and requires the same output.

After changing the doctor's wording, refresh the README block with
    PYTHONPATH=tests .venv/bin/python -m doctor.test_readme
"""

from __future__ import annotations

import re
import sys

from doctor.handbuilt import BASE, EKS, ORG_ID, REDSHIFT, REPO, Blueprint, apply, blueprint, doctor_args, run_doctor

README = REPO / "README.md"
BLOCK = re.compile(r"(<!-- doctor-report:begin -->\n```text\n)(.*?)(```\n<!-- doctor-report:end -->)", re.S)
COMMAND = "pulumi-resource-xpander doctor " + " ".join(doctor_args())


def broken() -> Blueprint:
    """The seed's setup as the provider deploys it (handbuilt.blueprint) with
    three hand edits: the Redshift connector lost
    AllowFromBaseRole (works in cloud, not self-hosted), the EKS connector's
    SelfAssume got the ExternalId condition, and someone gave the base role
    read access to a bucket."""
    bp = blueprint()
    bp.redshift.drop("AllowFromBaseRole")
    bp.eks.sid("SelfAssume")["Condition"] = {"StringEquals": {"sts:ExternalId": ORG_ID}}
    bp.base.policies["DataAccess"] = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::xpander-data/*"}]
    return bp


def capture(sim) -> tuple[int, str]:
    apply(sim, broken())
    run = run_doctor(sim, doctor_args())
    return run.returncode, run.stdout


def readme_report() -> str:
    found = BLOCK.search(README.read_text())
    assert found, "README.md lacks the <!-- doctor-report:begin/end --> block"
    return found.group(2)


def test_readme_shows_the_doctors_real_output(aws):
    code, out = capture(aws)
    assert code == 1
    assert ORG_ID not in out
    for needle in (BASE, REDSHIFT, EKS, "TRUST_MISSING_BASE_ROLE", "EXTERNAL_ID_ON_INTERNAL", "BASE_SERVICE_PERMISSIONS"):
        assert needle in out
    assert readme_report() == f"$ {COMMAND}\n{out}", (
        "README.md's doctor report is stale: run `PYTHONPATH=tests .venv/bin/python -m doctor.test_readme`"
    )


if __name__ == "__main__":
    from awssim.harness import AwsSim

    with AwsSim(propagation_delay=0) as sim:
        _, out = capture(sim)
    text = README.read_text()
    if not BLOCK.search(text):
        sys.exit("README.md lacks the <!-- doctor-report:begin/end --> block")
    README.write_text(BLOCK.sub(lambda m: m.group(1) + f"$ {COMMAND}\n{out}" + m.group(3), text))
    print(out)
