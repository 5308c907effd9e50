"""Trust scoped to what the seed names (issue 21, items 1 and 2), deployed
through the engine driver on awssim, whose Pod Identity sends the six
session tags EKS documents and whose STS evaluates the trust's conditions.

- The xpander pod's chain works, and the base role's trust requires the
  association's cluster ARN, namespace and service account
  (`aws:RequestTag/...`, EKS User Guide "Create IAM role with trust policy
  required by EKS Pod Identity").
- A pod of another namespace, service account or cluster is refused by that
  trust although an association (made as an attacker holding
  eks:CreatePodIdentityAssociation would) points it at the base role; the
  doctor and `diagnose` explain it with POD_IDENTITY_OUT_OF_SCOPE.
- disableSessionTags, a connector's podIdentityScope, and the warnings Check
  gives for what stays unscoped or trusts the deploying account.
- An existing stack's unconditioned base trust is rewritten by the next `up`
  while the chain keeps working.
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from botocore.exceptions import ClientError
from pulumi.runtime.proto import engine_pb2

from awssim.harness import AwsSimError
from doctor.checks import DIAGNOSE, invoke
from doctor.handbuilt import doctor_principal, run_doctor
from e2e.conftest import BINARY
from e2e.seed import ACCOUNT, BASE, CLUSTER, CONNECTOR, ORG_ID, PLATFORM, chain, provider_config, role_arn, seed_program, trust_of
from engine import Engine, ProviderProcess, Secret, Stack

OTHER_CLUSTER = "xpander-cluster-2"
BASE_ROLE = "xpander-base-role"
REDSHIFT = "xpander-redshift-access"
ASSUME_AND_TAG = ["sts:AssumeRole", "sts:TagSession"]
PODS = {"Service": "pods.eks.amazonaws.com"}


def cluster_arn(name: str) -> str:
    return f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{name}"


def scope(cluster: str = CLUSTER, namespace: str = "xpander", service_account: str = "xpander") -> dict:
    return {"StringEquals": {
        "aws:RequestTag/eks-cluster-arn": cluster_arn(cluster),
        "aws:RequestTag/kubernetes-namespace": namespace,
        "aws:RequestTag/kubernetes-service-account": service_account,
    }}


def document(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


UNSCOPED_BASE_TRUST = document({"Effect": "Allow", "Principal": PODS, "Action": ASSUME_AND_TAG})
SCOPED_BASE_TRUST = document({"Effect": "Allow", "Principal": PODS, "Action": ASSUME_AND_TAG, "Condition": scope()})


def statement(iam, role: str, sid: str) -> dict:
    return next(s for s in trust_of(iam, role)["Statement"] if s.get("Sid") == sid)


def make_cluster(aws, name: str) -> None:
    aws.boto3_client("eks").create_cluster(
        name=name, roleArn=role_arn("eks-cluster"), resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})


def associate(aws, cluster: str, namespace: str, service_account: str, role: str) -> dict:
    """An association made outside the stack (an attacker with
    eks:CreatePodIdentityAssociation, or a user of the PodIdentity fallback)."""
    return aws.boto3_client("eks").create_pod_identity_association(
        clusterName=cluster, namespace=namespace, serviceAccount=service_account, roleArn=role_arn(role))["association"]


def refusal(aws, cluster: str, namespace: str, service_account: str) -> AwsSimError:
    aws.settle()
    with pytest.raises(AwsSimError) as refused:
        aws.pod_credentials(cluster, namespace, service_account)
    return refused.value


def assert_refused_by_trust(err: AwsSimError, role: str) -> None:
    """Refused by STS evaluating the role's trust: not a missing association or role."""
    assert err.code == "AccessDenied", err
    assert "pods.eks.amazonaws.com" in str(err) and role_arn(role) in str(err), err


def warnings(provider, urn: str) -> list[str]:
    return [log.message for log in provider.logs if log.severity == engine_pb2.WARNING and log.urn == urn]


def wait_for_warning(provider, urn: str, text: str) -> None:
    """Check's warnings reach the engine on their own ordered stream, which may trail Check's answer."""
    found = provider.engine.service.wait_for_log(
        lambda log: log.severity == engine_pb2.WARNING and log.urn == urn and text in log.message)
    assert found is not None, f"no warning with {text!r} for {urn}: {warnings(provider, urn)}"


@pytest.fixture
def diagnose_engine(aws):
    """A provider answering `xpander:index:diagnose` as a principal holding only the doctor policy."""
    env = {**os.environ, **aws.provider_env(doctor_principal(aws))}
    env.pop("AWS_ENDPOINT_URL", None)
    with ProviderProcess(BINARY, env=env) as proc:
        eng = Engine(proc)
        eng.boot(provider_config(aws))
        yield eng


def doctor_reports(aws, diagnose_engine, cluster: str, namespace: str, service_account: str) -> dict:
    """The subcommand's JSON report for one association, checked equal to `diagnose`'s."""
    args = ["--base-role", BASE_ROLE, "--connector", REDSHIFT, "--cluster", cluster,
            "--namespace", namespace, "--service-account", service_account, "--json"]
    run = run_doctor(aws, args)
    assert run.stderr == "", run.stderr
    invoked, failures = invoke(diagnose_engine, DIAGNOSE, {
        "baseRoleName": BASE_ROLE, "connectorRoleNames": [REDSHIFT], "clusterName": cluster,
        "namespace": namespace, "serviceAccount": service_account})
    assert failures == [] and invoked == run.report, (failures, invoked, run.report)
    assert run.returncode == (1 if run.report["errorCount"] else 0)
    return run.report


def problems(report: dict) -> list[tuple[str, str, str]]:
    return [(f["severity"], f["code"], f["role"]) for f in report["findings"] if f["severity"] != "info"]


# -- the base role ----------------------------------------------------------------


def test_the_xpander_pods_chain_works_through_the_scoped_trust(aws, cluster, stack):
    stack.up(seed_program(cluster))
    iam = aws.boto3_client("iam")
    assert trust_of(iam, BASE_ROLE) == SCOPED_BASE_TRUST
    assert statement(iam, REDSHIFT, "PodIdentity") == {
        "Sid": "PodIdentity", "Effect": "Allow", "Principal": PODS, "Action": ASSUME_AND_TAG, "Condition": scope()}

    result = chain(aws, role_arn(REDSHIFT))
    assert result["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{REDSHIFT}/refresh")
    sessions = {s["sessionName"]: s for s in aws.sessions()}
    pod = next(s for s in aws.sessions() if s["roleArn"] == role_arn(BASE_ROLE))
    assert {k: pod["tags"][k] for k in ("eks-cluster-arn", "kubernetes-namespace", "kubernetes-service-account")} == {
        "eks-cluster-arn": cluster_arn(CLUSTER), "kubernetes-namespace": "xpander", "kubernetes-service-account": "xpander"}
    assert sessions["ai-gateway"]["chained"] and sessions["refresh"]["chained"]


CASES = {
    "another namespace": (CLUSTER, "default", "xpander"),
    "another service account": (CLUSTER, "xpander", "default"),
    "another cluster": (OTHER_CLUSTER, "xpander", "xpander"),
}


def test_other_pods_are_refused_by_the_trust_and_the_doctor_says_why(aws, cluster, stack, diagnose_engine):
    stack.up(seed_program(cluster))
    make_cluster(aws, OTHER_CLUSTER)
    # Without an association a pod is refused by EKS, before any trust is read ...
    assert refusal(aws, CLUSTER, "default", "xpander").code == "AssociationNotFound"
    for where in CASES.values():
        associate(aws, *where, BASE_ROLE)
    eks = aws.boto3_client("eks")
    listed = set()
    for c in (CLUSTER, OTHER_CLUSTER):
        for summary in eks.list_pod_identity_associations(clusterName=c)["associations"]:
            a = eks.describe_pod_identity_association(clusterName=c, associationId=summary["associationId"])["association"]
            listed.add((a["clusterName"], a["namespace"], a["serviceAccount"], a["roleArn"]))
    assert listed == {(*where, role_arn(BASE_ROLE)) for where in [(CLUSTER, "xpander", "xpander"), *CASES.values()]}

    # ... with one pointing at the base role, by the base role's trust.
    for name, where in CASES.items():
        assert_refused_by_trust(refusal(aws, *where), BASE_ROLE)
        report = doctor_reports(aws, diagnose_engine, *where)
        assert problems(report) == [("error", "POD_IDENTITY_OUT_OF_SCOPE", BASE_ROLE)], (name, report)
        (finding,) = [f for f in report["findings"] if f["code"] == "POD_IDENTITY_OUT_OF_SCOPE"]
        cluster_, namespace, service_account = where
        assert f"pods of {namespace}/{service_account} on cluster {cluster_} are refused" in finding["summary"], finding
        assert "kubernetes-namespace=xpander" in finding["summary"] and "podIdentity" in finding["fix"], finding
        assert finding["evidence"] == SCOPED_BASE_TRUST

    # The xpander pod still gets in, and the doctor has nothing to say about it.
    chain(aws, role_arn(REDSHIFT))
    assert problems(doctor_reports(aws, diagnose_engine, CLUSTER, "xpander", "xpander")) == []


def test_disabled_session_tags_leave_the_trust_unconditioned_and_the_chain_working(aws, cluster, stack, provider, diagnose_engine):
    pod_identity = {"clusterName": cluster, "disableSessionTags": True}
    stack.up(seed_program(cluster, base_inputs={"podIdentity": pod_identity}))
    wait_for_warning(provider, stack.engine.urn(BASE, "base"), "podIdentity.disableSessionTags: ")
    iam = aws.boto3_client("iam")
    assert trust_of(iam, BASE_ROLE) == UNSCOPED_BASE_TRUST
    assert "Condition" not in statement(iam, REDSHIFT, "PodIdentity")

    chain(aws, role_arn(REDSHIFT))
    pod = next(s for s in aws.sessions() if s["roleArn"] == role_arn(BASE_ROLE))
    assert pod["tags"] == {}, "EKS sets no session tags on this association"
    assert problems(doctor_reports(aws, diagnose_engine, CLUSTER, "xpander", "xpander")) == []


# -- a connector's PodIdentity fallback ----------------------------------------------


def direct(cluster: str, **connector):
    """A connector that pods reach through its PodIdentity fallback, and a base role on no association."""
    def program(ctx):
        base = ctx.resource(BASE, "base", {"roleName": BASE_ROLE})
        ctx.resource(CONNECTOR, "redshift", {
            "roleName": REDSHIFT,
            "baseRoleArn": base["arn"],
            "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"},
            **connector,
        })
    return program


def test_a_scoped_fallback_admits_its_namespace_only(aws, cluster, stack, provider):
    stack.up(direct(cluster, podIdentityScope={"clusterName": cluster}))
    iam = aws.boto3_client("iam")
    assert statement(iam, REDSHIFT, "PodIdentity")["Condition"] == scope()
    wait_for_warning(provider, stack.engine.urn(BASE, "base"), "podIdentity is not set: ")
    associate(aws, cluster, "xpander", "xpander", REDSHIFT)
    associate(aws, cluster, "default", "xpander", REDSHIFT)

    aws.settle()
    pod = aws.pod_credentials(cluster, "xpander", "xpander")
    assert pod["AssumedRoleArn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{REDSHIFT}/")
    assert_refused_by_trust(refusal(aws, cluster, "default", "xpander"), REDSHIFT)


def test_an_unscoped_fallback_admits_any_association_and_check_says_so(aws, cluster, stack, provider):
    stack.up(direct(cluster))
    connector = stack.engine.urn(CONNECTOR, "redshift")
    wait_for_warning(provider, connector, "podIdentityTrust without podIdentityScope: the PodIdentity fallback statement admits any Pod Identity association")
    assert statement(aws.boto3_client("iam"), REDSHIFT, "PodIdentity") == {
        "Sid": "PodIdentity", "Effect": "Allow", "Principal": PODS, "Action": ASSUME_AND_TAG}
    associate(aws, cluster, "default", "anything", REDSHIFT)
    aws.settle()
    assert aws.pod_credentials(cluster, "default", "anything")["AssumedRoleArn"].startswith(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{REDSHIFT}/")


# -- Check's warnings ---------------------------------------------------------------


def test_check_warns_where_the_trust_stays_broad(aws, stack, provider):
    """Each connector's own warnings, in one preview; the last resource's
    warning arriving means every earlier one has (one ordered stream)."""
    def program(ctx):
        base = ctx.resource(BASE, "base", {"roleName": BASE_ROLE, "podIdentity": {"clusterName": CLUSTER}})
        common = {"baseRoleArn": base["arn"], "externalId": Secret(ORG_ID), "s3": {"buckets": ["xpander-data"]},
                  "podIdentityScope": {"clusterName": CLUSTER}}
        ctx.resource(CONNECTOR, "own-account", {"roleName": "xpander-own", **common})
        ctx.resource(CONNECTOR, "platform", {"roleName": "xpander-platform", "trustedAccountId": PLATFORM, **common})
        ctx.resource(CONNECTOR, "no-fallback", {"roleName": "xpander-no-fallback", "baseRoleArn": base["arn"],
                                                "podIdentityTrust": False, "s3": {"buckets": ["xpander-data"]}})
        ctx.resource(CONNECTOR, "last", {"roleName": "xpander-last", "baseRoleArn": base["arn"], "s3": {"buckets": ["xpander-data"]}})
    stack.preview(program)
    urn = lambda name: stack.engine.urn(CONNECTOR, name)  # noqa: E731
    wait_for_warning(provider, urn("last"), "podIdentityTrust without podIdentityScope")

    (own,) = warnings(provider, urn("own-account"))
    assert own.startswith("externalId without trustedAccountId: CrossAccountWithExternalId then trusts the deploying account's own root"), own
    assert "set trustedAccountId to the xpander platform's account" in own and ORG_ID not in own
    assert warnings(provider, urn("platform")) == []
    assert not [w for w in warnings(provider, urn("no-fallback")) if "podIdentity" in w], warnings(provider, urn("no-fallback"))
    assert warnings(provider, stack.engine.urn(BASE, "base")) == []


# -- import --------------------------------------------------------------------------


def test_scoped_roles_import_with_their_scope(aws, cluster, engine):
    deployed = Stack(engine)
    deployed.up(seed_program(cluster))

    imported = Stack(engine)
    imported.import_resource(BASE, "base", BASE_ROLE)
    imported.import_resource(CONNECTOR, "redshift", REDSHIFT)
    inputs = {r.name: r.inputs for r in imported.resources}
    # The base role's scoped trust names its association; without it the next up would drop the scope.
    assert inputs["base"]["podIdentity"] == {"clusterName": CLUSTER, "namespace": "xpander", "serviceAccount": "xpander"}
    assert inputs["redshift"]["podIdentityScope"] == {"clusterName": CLUSTER, "namespace": "xpander", "serviceAccount": "xpander"}
    assert inputs["redshift"]["trustedAccountId"] == PLATFORM

    aws.clear_requests()
    events = imported.preview(lambda ctx: [ctx.resource(r.type, r.name, r.inputs) for r in list(imported.resources)])
    assert [(e.name, e.op) for e in events] == [("base", "same"), ("redshift", "same")]
    assert [r for r in aws.requests() if r["mutating"]] == []


# -- an existing stack --------------------------------------------------------------


class ChainPoller:
    """pod -> base role -> connector, about every 100 ms, on its own thread;
    each attempt records whether STS still saw an unsettled role change."""

    def __init__(self, aws, connector_arn: str) -> None:
        self.aws, self.connector_arn = aws, connector_arn
        self.results: list[tuple[bool, str | None]] = []  # (unsettled, error)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _attempt(self) -> str | None:
        try:
            pod = self.aws.pod_credentials(CLUSTER, "xpander", "xpander", pod_name="xpander-ai-gateway-0")
            self.aws.client_for("sts", pod).assume_role(RoleArn=self.connector_arn, RoleSessionName="ai-gateway")
        except AwsSimError as err:
            return f"{err.code}: {err}"
        except ClientError as err:
            return f"{err.response['Error']['Code']}: {err.response['Error']['Message']}"
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            unsettled = bool(self.aws.unsettled())
            self.results.append((unsettled, self._attempt()))
            self._stop.wait(0.1)

    def __enter__(self) -> ChainPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.awssim_config(propagation_delay=2.0)
def test_an_existing_stack_gets_the_scoped_trust_with_the_chain_working_throughout(aws, cluster, stack):
    """A base role deployed before issue 21 trusts any association: the next
    `up` of the same program rewrites that trust in place and nothing else,
    and the xpander pod's chain is never refused, before, during or after
    STS sees the change."""
    def program(ctx):  # as 0.1 examples wrote it: connectors without podIdentityScope
        base = ctx.resource(BASE, "base", {"roleName": BASE_ROLE, "podIdentity": {"clusterName": cluster}})
        ctx.resource(CONNECTOR, "redshift", {"roleName": REDSHIFT, "baseRoleArn": base["arn"], "baseRoleId": base["roleId"],
                                             "redshift": {"clusterIdentifier": "analytics", "databaseName": "dev"}})
    stack.up(program)
    iam = aws.boto3_client("iam")
    iam.update_assume_role_policy(RoleName=BASE_ROLE, PolicyDocument=json.dumps(UNSCOPED_BASE_TRUST))
    connector_trust = trust_of(iam, REDSHIFT)
    aws.settle()
    stack.refresh()  # the state now holds the old trust, as a stack deployed by 0.1 does
    assert json.loads(json.dumps(stack.get("base").outputs["trustPolicy"])) == UNSCOPED_BASE_TRUST

    with ChainPoller(aws, role_arn(REDSHIFT)) as poller:
        preview = {e.name: e for e in stack.preview(program)}
        assert (preview["base"].op, preview["redshift"].op) == ("update", "same")
        assert "trustPolicy" in preview["base"].diff.diffs and not preview["base"].diff.replaces
        aws.clear_requests()
        stack.up(program)
        writes = [(r["action"], r["params"].get("RoleName")) for r in aws.requests() if r["mutating"]]
        assert writes == [("UpdateAssumeRolePolicy", BASE_ROLE)]
        aws.settle()
        seen = len(poller.results)
        while len(poller.results) < seen + 3:  # a few attempts once STS sees the new trust
            time.sleep(0.05)

    assert trust_of(iam, BASE_ROLE) == SCOPED_BASE_TRUST
    assert trust_of(iam, REDSHIFT) == connector_trust, "connectors keep their trust until podIdentityScope is set"
    refused = [error for _, error in poller.results if error]
    assert refused == [], refused
    assert any(unsettled for unsettled, _ in poller.results), "no attempt fell in the propagation window"
    assert all(e.op == "same" for e in stack.up(program))
