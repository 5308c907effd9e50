"""What the EKS Pod Identity agent does for a pod: find the association for its
service account, have the Pod Identity service principal assume the role with
the six EKS session tags (transitive; none when the association disables
session tags), then, for a target role, chain into it with the association's
external id.  Trust is evaluated exactly as for STS, so a trust scoped by
aws:RequestTag/eks-cluster-arn, kubernetes-namespace or
kubernetes-service-account refuses a pod of another cluster, namespace or
service account.
"""

from __future__ import annotations

import uuid

from .eks_layer import POD_IDENTITY_SERVICE, EksLayer
from .identity import Caller
from .state import Session, SimState, eks
from .sts_layer import StsLayer
from .wire import AwsError

POD_SESSION_SECONDS = 3600


class PodIdentityError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def pod_credentials(state: SimState, eks_layer: EksLayer, sts: StsLayer, request: dict, account: str, region: str) -> dict:
    for key in ("clusterName", "namespace", "serviceAccount"):
        if not isinstance(request.get(key), str) or not request[key]:
            raise PodIdentityError(400, "InvalidRequest", f"{key} is required")
    cluster_name, namespace, service_account = request["clusterName"], request["namespace"], request["serviceAccount"]
    cluster = eks(account, region).clusters.get(cluster_name)
    if cluster is None:
        raise PodIdentityError(404, "ClusterNotFound", f"No cluster found for name: {cluster_name}.")
    association = eks_layer.find_association(account, region, cluster_name, namespace, service_account)
    if association is None:
        raise PodIdentityError(
            404, "AssociationNotFound", f"No Pod Identity association for {namespace}/{service_account} in cluster {cluster_name}"
        )
    role = state.role_by_arn(association.role_arn)
    if role is None:
        raise PodIdentityError(400, "RoleNotFound", f"Role {association.role_arn} of association {association.association_id} does not exist")

    pod_name = request.get("podName") or f"{service_account}-pod"
    tags = {} if association.disable_session_tags else {
        "eks-cluster-arn": cluster.arn,
        "eks-cluster-name": cluster_name,
        "kubernetes-namespace": namespace,
        "kubernetes-service-account": service_account,
        "kubernetes-pod-name": pod_name,
        "kubernetes-pod-uid": str(uuid.uuid4()),
    }
    session_name = f"eks-{cluster_name}-{pod_name}-{uuid.uuid4()}"[:64].rstrip("-")
    # EKS documents the six tags (and aws:SourceOrgId, meaningless without Organizations), not
    # aws:SourceAccount nor aws:SourceArn.  aws:SourceAccount is kept: an AWS sample and a field
    # report condition pods trusts on it.  aws:SourceArn is left out: the only report points at
    # the association's ARN, and a trust relying on an unverified value must not pass here.
    service_context = {"aws:sourceaccount": [account]}
    try:
        sts.authorize(Caller.for_service(POD_IDENTITY_SERVICE, account), role, tags, session_name, None, set(tags), service_context)
        session = sts.issue(role, session_name, tags, set(tags), chained=False, duration=POD_SESSION_SECONDS)
        if association.target_role_arn:
            session = _assume_target(state, sts, session, association.target_role_arn, association.external_id, session_name)
    except AwsError as err:
        raise PodIdentityError(403 if err.code == "AccessDenied" else 400, err.code, err.message)
    return {
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "Token": session.session_token,
        "Expiration": session.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "AccountId": session.account,
        "AssumedRoleArn": session.arn,
        "SessionTags": session.tags,
    }


def _assume_target(state: SimState, sts: StsLayer, source: Session, target_arn: str, external_id: str | None, session_name: str) -> Session:
    caller = Caller.for_session(source, state.role_by_id(source.role_id))
    target = state.role_by_arn(target_arn)
    if target is None:
        raise PodIdentityError(400, "RoleNotFound", f"Target role {target_arn} does not exist")
    tags = source.transitive_tags()
    sts.authorize(caller, target, tags, session_name, external_id, set(tags))
    return sts.issue(target, session_name, tags, set(tags), chained=True, duration=POD_SESSION_SECONDS)
