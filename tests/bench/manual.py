"""The seed's manual procedure, replayed with boto3 against the same
simulator ("Role Creation Order" and "Adding a New Connector"):

    aws iam create-role --assume-role-policy-document file://initial-trust.json
    sleep 10
    aws iam update-assume-role-policy --policy-document file://full-trust.json
    aws iam put-role-policy ...            # SelfAssumeAndTagSession + service permissions
    aws iam put-role-policy --role-name <base> --policy-name AssumeConnectorRoles ...

The documents are exactly the ones the provider writes (from
renderConnectorPolicies), so the two differ only in how they sequence."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from botocore.exceptions import ClientError

SEED_SLEEP = 10.0


@dataclass
class ManualResult:
    seconds: float | None  # time to the last call of the procedure (None: it failed)
    error: str = ""
    calls: int = 0


def run_seed_procedure(iam, role_name: str, documents: dict, base_role: str, granted_arns: list[str],
                       sleep: float = SEED_SLEEP) -> ManualResult:
    calls = 0
    started = time.perf_counter()
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(documents["initialTrustPolicy"]))
    calls += 1
    time.sleep(sleep)  # "Step 2: Wait for propagation"
    try:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(documents["trustPolicy"]))
        calls += 1
    except ClientError as err:
        code = err.response["Error"]["Code"]
        message = err.response["Error"]["Message"]
        reason = message.split(":")[0]  # "Invalid principal in policy"
        return ManualResult(None, f"update-assume-role-policy → {code} ({reason})", calls + 1)
    for name, document in documents["policies"].items():
        iam.put_role_policy(RoleName=role_name, PolicyName=name, PolicyDocument=json.dumps(document))
        calls += 1
    iam.put_role_policy(RoleName=base_role, PolicyName="AssumeConnectorRoles", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": granted_arns}],
    }))
    calls += 1
    return ManualResult(time.perf_counter() - started, "", calls)
