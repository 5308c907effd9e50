"""EKS access entries and access policy associations."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from xpander_setup import ACCOUNT, doc

CLUSTER = "c1"
TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
ROLE = f"arn:aws:iam::{ACCOUNT}:role/connector"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def error_of(call) -> dict:
    with pytest.raises(ClientError) as info:
        call()
    return {**info.value.response["Error"], "Status": info.value.response["ResponseMetadata"]["HTTPStatusCode"]}


@pytest.fixture
def eks(aws):
    client = aws.boto3_client("eks")
    client.create_cluster(name=CLUSTER, roleArn=ROLE, resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    aws.boto3_client("iam").create_role(RoleName="connector", AssumeRolePolicyDocument=TRUST)
    return client


def test_access_entry_lifecycle(eks):
    entry = eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE, kubernetesGroups=["readers"], tags={"a": "b"})["accessEntry"]
    assert entry["type"] == "STANDARD"
    assert entry["username"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/connector/{{{{SessionName}}}}"
    assert entry["accessEntryArn"].startswith(f"arn:aws:eks:us-east-1:{ACCOUNT}:access-entry/{CLUSTER}/role/{ACCOUNT}/connector/")
    assert eks.describe_access_entry(clusterName=CLUSTER, principalArn=ROLE)["accessEntry"]["kubernetesGroups"] == ["readers"]
    assert eks.list_access_entries(clusterName=CLUSTER)["accessEntries"] == [ROLE]
    updated = eks.update_access_entry(clusterName=CLUSTER, principalArn=ROLE, kubernetesGroups=["writers"], username="conn")["accessEntry"]
    assert (updated["kubernetesGroups"], updated["username"]) == (["writers"], "conn")
    eks.delete_access_entry(clusterName=CLUSTER, principalArn=ROLE)
    err = error_of(lambda: eks.describe_access_entry(clusterName=CLUSTER, principalArn=ROLE))
    assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)


def test_one_entry_per_principal(eks):
    first = eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE, clientRequestToken="t-1")["accessEntry"]
    # A retry with the same idempotency token is answered with the same entry.
    again = eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE, clientRequestToken="t-1")["accessEntry"]
    assert again["accessEntryArn"] == first["accessEntryArn"]
    err = error_of(lambda: eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE))
    assert (err["Code"], err["Status"]) == ("ResourceInUseException", 409)


@pytest.mark.parametrize(
    "principal",
    [
        f"arn:aws:iam::{ACCOUNT}:role/ghost",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/connector/session",
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS",
    ],
)
def test_principal_must_be_an_existing_role_or_user(eks, principal):
    err = error_of(lambda: eks.create_access_entry(clusterName=CLUSTER, principalArn=principal))
    assert (err["Code"], err["Message"]) == ("InvalidParameterException", "The specified principalArn is invalid: invalid principal")


def test_users_are_valid_principals(aws, eks):
    user = aws.boto3_client("iam").create_user(UserName="ops")["User"]["Arn"]
    assert eks.create_access_entry(clusterName=CLUSTER, principalArn=user)["accessEntry"]["username"] == user


@pytest.mark.awssim_config(propagation_delay=60)
def test_role_inside_propagation_delay_is_an_invalid_principal(aws, eks):
    err = error_of(lambda: eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE))
    assert err["Message"] == "The specified principalArn is invalid: invalid principal"
    aws.set_config(propagation_delay=0)
    eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE)


def test_type_rules(eks):
    assert error_of(lambda: eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE, type="ROBOT"))["Code"] == "InvalidParameterException"
    err = error_of(lambda: eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE, type="EC2_LINUX", kubernetesGroups=["g"]))
    assert err["Code"] == "InvalidParameterException"
    node = eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE, type="EC2_LINUX")["accessEntry"]
    assert node["username"] == "system:node:{{EC2PrivateDNSName}}"
    err = error_of(lambda: eks.associate_access_policy(
        clusterName=CLUSTER, principalArn=ROLE, policyArn=VIEW_POLICY, accessScope={"type": "cluster"}))
    assert err["Code"] == "InvalidParameterException"


def test_access_policy_association_lifecycle(eks):
    eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE)
    result = eks.associate_access_policy(clusterName=CLUSTER, principalArn=ROLE, policyArn=ADMIN_POLICY, accessScope={"type": "cluster"})
    assert result["associatedAccessPolicy"]["policyArn"] == ADMIN_POLICY
    assert result["associatedAccessPolicy"]["accessScope"] == {"type": "cluster", "namespaces": []}
    eks.associate_access_policy(
        clusterName=CLUSTER, principalArn=ROLE, policyArn=VIEW_POLICY, accessScope={"type": "namespace", "namespaces": ["dev-*", "prod"]})
    # Re-associating replaces the scope instead of adding a second association.
    eks.associate_access_policy(
        clusterName=CLUSTER, principalArn=ROLE, policyArn=VIEW_POLICY, accessScope={"type": "namespace", "namespaces": ["xpander"]})
    listed = eks.list_associated_access_policies(clusterName=CLUSTER, principalArn=ROLE)["associatedAccessPolicies"]
    assert {p["policyArn"]: p["accessScope"]["namespaces"] for p in listed} == {ADMIN_POLICY: [], VIEW_POLICY: ["xpander"]}
    assert eks.list_access_entries(clusterName=CLUSTER, associatedPolicyArn=VIEW_POLICY)["accessEntries"] == [ROLE]
    eks.disassociate_access_policy(clusterName=CLUSTER, principalArn=ROLE, policyArn=VIEW_POLICY)
    listed = eks.list_associated_access_policies(clusterName=CLUSTER, principalArn=ROLE)["associatedAccessPolicies"]
    assert [p["policyArn"] for p in listed] == [ADMIN_POLICY]
    assert eks.list_access_entries(clusterName=CLUSTER, associatedPolicyArn=VIEW_POLICY)["accessEntries"] == []


def test_deleting_an_entry_removes_its_associations(eks):
    eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE)
    eks.associate_access_policy(clusterName=CLUSTER, principalArn=ROLE, policyArn=ADMIN_POLICY, accessScope={"type": "cluster"})
    eks.delete_access_entry(clusterName=CLUSTER, principalArn=ROLE)
    eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE)
    assert eks.list_associated_access_policies(clusterName=CLUSTER, principalArn=ROLE)["associatedAccessPolicies"] == []


@pytest.mark.parametrize(
    "scope",
    [{"type": "namespace"}, {"type": "namespace", "namespaces": []}, {"type": "namespace", "namespaces": ["*-dev"]},
     {"type": "cluster", "namespaces": ["x"]}],
)
def test_access_scope_rules(eks, scope):
    eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE)
    err = error_of(lambda: eks.associate_access_policy(clusterName=CLUSTER, principalArn=ROLE, policyArn=VIEW_POLICY, accessScope=scope))
    assert err["Code"] == "InvalidParameterException"


def test_unknown_policy_and_missing_entry_are_not_found(eks):
    err = error_of(lambda: eks.associate_access_policy(
        clusterName=CLUSTER, principalArn=ROLE, policyArn=ADMIN_POLICY, accessScope={"type": "cluster"}))
    assert (err["Code"], err["Status"]) == ("ResourceNotFoundException", 404)
    assert "principalArn could not be found" in err["Message"]
    eks.create_access_entry(clusterName=CLUSTER, principalArn=ROLE)
    err = error_of(lambda: eks.associate_access_policy(
        clusterName=CLUSTER, principalArn=ROLE, policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSGodPolicy",
        accessScope={"type": "cluster"}))
    assert err["Code"] == "ResourceNotFoundException"


def test_list_access_policies(aws):
    eks = aws.boto3_client("eks")
    policies = {p["name"]: p["arn"] for p in eks.list_access_policies()["accessPolicies"]}
    for name in ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy", "AmazonEKSAdminViewPolicy"):
        assert policies[name] == f"arn:aws:eks::aws:cluster-access-policy/{name}"
    paged = eks.get_paginator("list_access_policies").paginate(PaginationConfig={"PageSize": 4})
    assert sum(len(page["accessPolicies"]) for page in paged) == len(policies)


def test_authentication_mode_is_reported_and_enforced(aws, eks):
    assert eks.describe_cluster(name=CLUSTER)["cluster"]["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    # As in the EKS API, a cluster created without accessConfig is CONFIG_MAP.
    created = eks.create_cluster(name="legacy", roleArn=ROLE, resourcesVpcConfig={})["cluster"]
    assert created["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    assert eks.describe_cluster(name="legacy")["cluster"]["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    err = error_of(lambda: eks.create_access_entry(clusterName="legacy", principalArn=ROLE))
    assert (err["Code"], err["Status"]) == ("InvalidRequestException", 400)
    assert error_of(lambda: eks.list_access_entries(clusterName="legacy"))["Code"] == "InvalidRequestException"
    # Pod Identity does not depend on the authentication mode.
    aws.boto3_client("iam").create_role(RoleName="pods", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}))
    eks.create_pod_identity_association(
        clusterName="legacy", namespace="ns", serviceAccount="sa", roleArn=f"arn:aws:iam::{ACCOUNT}:role/pods")
