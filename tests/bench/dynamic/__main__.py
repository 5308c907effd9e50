"""Benchmark fixture, not a product: the seed's IAM roles through a Pulumi
dynamic provider written with boto3, the way a team that follows the seed's
"IAM Best Practices" guide would write it.

  BaseRole       CreateRole (trusts pods.eks.amazonaws.com), then the EKS Pod
                 Identity association (xpander/xpander).
  ConnectorRole  the seed's "Role Creation Order": CreateRole with the trust
                 statements that name no role (PodIdentity,
                 CrossAccountWithExternalId), the permission policies and
                 SelfAssumeAndTagSession, then UpdateAssumeRolePolicy with the
                 full four-statement trust (+ SelfAssume, AllowFromBaseRole),
                 then the connector's ARN added to the base role's
                 AssumeConnectorRoles policy ("Adding a New Connector"), and
                 for EKS the access entry with AmazonEKSClusterAdminPolicy.

IAM is eventually consistent. The seed says to wait 10 s after creating a
role; a team turns that into the retry loop below: on IAM's "Invalid
principal" (MalformedPolicyDocument) or EKS's "role does not exist", wait 2 s
and try again, 5 times: the seed's 10 s, without waiting when nothing needs
it. Nothing else retries beyond boto3's defaults.

Everything lives in this file on purpose: the dynamic provider is pickled
(dill) into the state of each resource, and classes of __main__ are pickled
by value, so the provider process (`python -m pulumi.dynamic`) needs no
import path. boto3 clients are made inside each call (a client cannot be
pickled); boto3 reads the endpoint from AWS_ENDPOINT_URL.
"""

import json
import time

import boto3
import pulumi
from botocore.exceptions import ClientError
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

ASSUME = ["sts:AssumeRole", "sts:TagSession"]
PODS = "pods.eks.amazonaws.com"
RETRIES = 5
PAUSE_S = 2.0
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def doc(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def still_propagating(err):
    error = err.response["Error"]
    code, message = error.get("Code", ""), error.get("Message", "")
    return (code == "MalformedPolicyDocument" and "Invalid principal" in message) or (
        code == "InvalidParameterException" and "does not exist" in message
    )


def retry(call):
    """IAM needs a few seconds before a new role can be named (the seed waits 10 s)."""
    for attempt in range(RETRIES + 1):
        try:
            return call()
        except ClientError as err:
            if attempt == RETRIES or not still_propagating(err):
                raise
            time.sleep(PAUSE_S)


def role_name_of(arn):
    return arn.rsplit("/", 1)[-1]


def account_of(arn):
    return arn.split(":")[4]


def delete_role(iam, name):
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def replace_on(keys, olds, news):
    changed = [k for k in news if not k.startswith("__") and olds.get(k) != news.get(k)]
    return DiffResult(changes=bool(changed), replaces=[k for k in changed if k in keys], delete_before_replace=True)


# -- the base role --------------------------------------------------------------------


class BaseRoleProvider(ResourceProvider):
    def create(self, props):
        iam, eks = boto3.client("iam"), boto3.client("eks")
        role = iam.create_role(
            RoleName=props["role_name"],
            AssumeRolePolicyDocument=doc([{"Effect": "Allow", "Principal": {"Service": PODS}, "Action": ASSUME}]),
        )["Role"]
        association = retry(lambda: eks.create_pod_identity_association(
            clusterName=props["cluster_name"], namespace=props["namespace"],
            serviceAccount=props["service_account"], roleArn=role["Arn"],
        ))["association"]
        outs = {**props, "arn": role["Arn"], "role_id": role["RoleId"], "association_id": association["associationId"]}
        return CreateResult(id_=props["role_name"], outs=outs)

    def diff(self, id, olds, news):
        return replace_on(("role_name", "cluster_name", "namespace", "service_account"), olds, news)

    def read(self, id, props):
        role = boto3.client("iam").get_role(RoleName=id)["Role"]
        return ReadResult(id_=id, outs={**props, "arn": role["Arn"], "role_id": role["RoleId"]})

    def delete(self, id, props):
        eks = boto3.client("eks")
        try:
            eks.delete_pod_identity_association(clusterName=props["cluster_name"], associationId=props["association_id"])
        except eks.exceptions.ResourceNotFoundException:
            pass
        delete_role(boto3.client("iam"), id)


class BaseRole(Resource):
    arn: pulumi.Output[str]
    role_id: pulumi.Output[str]

    def __init__(self, name, role_name, cluster_name, namespace="xpander", service_account="xpander", opts=None):
        super().__init__(BaseRoleProvider(), name, {
            "role_name": role_name, "cluster_name": cluster_name, "namespace": namespace,
            "service_account": service_account, "arn": None, "role_id": None, "association_id": None,
        }, opts)


# -- a connector role -----------------------------------------------------------------


def trust(props, arn, full):
    statements = [
        {"Sid": "PodIdentity", "Effect": "Allow", "Principal": {"Service": PODS}, "Action": ASSUME},
        {"Sid": "CrossAccountWithExternalId", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account_of(props['base_role_arn'])}:root"}, "Action": ASSUME,
         "Condition": {"StringEquals": {"sts:ExternalId": props["external_id"]}}},
    ]
    if full:  # Role Creation Order: only once the role exists
        statements += [
            {"Sid": "SelfAssume", "Effect": "Allow", "Principal": {"AWS": arn}, "Action": ASSUME},
            {"Sid": "AllowFromBaseRole", "Effect": "Allow", "Principal": {"AWS": props["base_role_arn"]},
             "Action": ASSUME},
        ]
    return doc(statements)


def permissions(props, arn):
    region = boto3.session.Session().region_name or "us-east-1"
    account = account_of(arn)
    policies = {"SelfAssumeAndTagSession": [{"Effect": "Allow", "Action": ASSUME, "Resource": arn}]}
    if props.get("redshift"):
        cluster, database = props["redshift"]["cluster_identifier"], props["redshift"]["database_name"]
        prefix = f"arn:aws:redshift:{region}:{account}"
        policies["RedshiftCredentials"] = [{
            "Effect": "Allow",
            "Action": ["redshift:GetClusterCredentials", "redshift:GetClusterCredentialsWithIAM",
                       "redshift:DescribeClusters"],
            "Resource": [f"{prefix}:cluster:{cluster}", f"{prefix}:dbname:{cluster}/{database}",
                         f"{prefix}:dbuser:{cluster}/*"],
        }]
        policies["RedshiftDataAPI"] = [{
            "Effect": "Allow",
            "Action": ["redshift-data:ExecuteStatement", "redshift-data:GetStatementResult",
                       "redshift-data:DescribeStatement"],
            "Resource": "*",
        }]
    if props.get("eks"):
        policies["EKSAccess"] = [
            {"Effect": "Allow", "Action": ["eks:DescribeCluster", "eks:ListClusters", "eks:AccessKubernetesApi"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"], "Resource": "*"},
        ]
    if props.get("s3"):
        buckets = props["s3"]["buckets"]
        policies["S3Access"] = [
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
             "Resource": [f"arn:aws:s3:::{b}" for b in buckets]},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{b}/*" for b in buckets]},
        ]
    return policies


def set_grant(iam, base_role, arn, present):
    """The base role's AssumeConnectorRoles policy lists every connector (the seed's shape)."""
    try:
        current = iam.get_role_policy(RoleName=base_role, PolicyName="AssumeConnectorRoles")["PolicyDocument"]
        if isinstance(current, str):
            current = json.loads(current)
        resources = current["Statement"][0]["Resource"]
        resources = [resources] if isinstance(resources, str) else list(resources)
    except iam.exceptions.NoSuchEntityException:
        resources = []
    resources = sorted((set(resources) | {arn}) if present else (set(resources) - {arn}))
    if resources:
        iam.put_role_policy(RoleName=base_role, PolicyName="AssumeConnectorRoles",
                            PolicyDocument=doc([{"Effect": "Allow", "Action": ASSUME, "Resource": resources}]))
    else:
        try:
            iam.delete_role_policy(RoleName=base_role, PolicyName="AssumeConnectorRoles")
        except iam.exceptions.NoSuchEntityException:
            pass


class ConnectorRoleProvider(ResourceProvider):
    def create(self, props):
        iam = boto3.client("iam")
        name = props["role_name"]
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(props, None, full=False))["Role"]
        arn = role["Arn"]
        for policy, statements in permissions(props, arn).items():
            iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=doc(statements))
        retry(lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust(props, arn, full=True)))
        set_grant(iam, role_name_of(props["base_role_arn"]), arn, present=True)
        if props.get("eks"):
            eks = boto3.client("eks")
            cluster = props["eks"]["cluster_name"]
            retry(lambda: eks.create_access_entry(clusterName=cluster, principalArn=arn, type="STANDARD"))
            eks.associate_access_policy(clusterName=cluster, principalArn=arn, policyArn=CLUSTER_ADMIN,
                                        accessScope={"type": "cluster"})
        return CreateResult(id_=name, outs={**props, "arn": arn, "role_id": role["RoleId"]})

    def diff(self, id, olds, news):
        return replace_on(("role_name", "eks"), olds, news)

    def update(self, id, olds, news):
        iam = boto3.client("iam")
        arn = olds["arn"]
        wanted = permissions(news, arn)
        for policy in set(permissions(olds, arn)) - set(wanted):
            iam.delete_role_policy(RoleName=id, PolicyName=policy)
        for policy, statements in wanted.items():
            iam.put_role_policy(RoleName=id, PolicyName=policy, PolicyDocument=doc(statements))
        retry(lambda: iam.update_assume_role_policy(RoleName=id, PolicyDocument=trust(news, arn, full=True)))
        if olds["base_role_arn"] != news["base_role_arn"]:
            set_grant(iam, role_name_of(olds["base_role_arn"]), arn, present=False)
            set_grant(iam, role_name_of(news["base_role_arn"]), arn, present=True)
        return UpdateResult(outs={**news, "arn": arn, "role_id": olds["role_id"]})

    def read(self, id, props):
        role = boto3.client("iam").get_role(RoleName=id)["Role"]
        return ReadResult(id_=id, outs={**props, "arn": role["Arn"], "role_id": role["RoleId"]})

    def delete(self, id, props):
        iam = boto3.client("iam")
        if props.get("eks"):
            eks = boto3.client("eks")
            try:
                eks.delete_access_entry(clusterName=props["eks"]["cluster_name"], principalArn=props["arn"])
            except eks.exceptions.ResourceNotFoundException:
                pass
        set_grant(iam, role_name_of(props["base_role_arn"]), props["arn"], present=False)
        delete_role(iam, id)


class ConnectorRole(Resource):
    arn: pulumi.Output[str]
    role_id: pulumi.Output[str]

    def __init__(self, name, role_name, base_role_arn, external_id, redshift=None, eks=None, s3=None, opts=None):
        super().__init__(ConnectorRoleProvider(), name, {
            "role_name": role_name, "base_role_arn": base_role_arn, "external_id": external_id,
            "redshift": redshift, "eks": eks, "s3": s3, "arn": None, "role_id": None,
        }, opts)


# -- the program ----------------------------------------------------------------------

config = pulumi.Config()
cluster_name = config.require("clusterName")
organization_id = config.require_secret("organizationId")
connectors = config.get_int("connectors") or 0

PER_BASE = 50  # one base role's inline policies hold about 59 connector ARNs: as in tests/bench/xpander_program

base = BaseRole("base", role_name="xpander-base-role", cluster_name=cluster_name)
pulumi.export("baseRoleArn", base.arn)
if connectors == 0:
    redshift = ConnectorRole("redshift", role_name="xpander-redshift-access", base_role_arn=base.arn,
                             external_id=organization_id,
                             redshift={"cluster_identifier": "analytics", "database_name": "dev"})
    eks = ConnectorRole("eks", role_name="xpander-eks-connector", base_role_arn=base.arn,
                        external_id=organization_id, eks={"cluster_name": cluster_name})
    pulumi.export("redshiftRoleArn", redshift.arn)
    pulumi.export("eksRoleArn", eks.arn)
    if config.get_bool("addS3Connector"):
        s3 = ConnectorRole("s3", role_name="xpander-s3-connector", base_role_arn=base.arn,
                           external_id=organization_id, s3={"buckets": ["xpander-data"]})
        pulumi.export("s3RoleArn", s3.arn)
else:
    bases = [base] + [BaseRole(f"base-{b}", role_name=f"xpander-base-role-{b}", cluster_name=cluster_name,
                               service_account=f"xpander-{b}") for b in range(1, -(-connectors // PER_BASE))]
    for i in range(connectors):
        ConnectorRole(f"connector-{i}", role_name=f"xpander-s3-{i}", base_role_arn=bases[i // PER_BASE].arn,
                      external_id=organization_id, s3={"buckets": [f"xpander-data-{i}"]})
