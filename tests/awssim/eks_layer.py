"""EKS Pod Identity associations and access entries, which moto does not have.

Clusters stay moto's (CreateCluster/DescribeCluster pass through); these APIs
check the cluster against moto and IAM principals against moto's IAM, with
the same propagation delay IAM trust policies see.  Each account has its own
clusters; a Pod Identity association's role and an access entry's principal
are in the cluster's account, a target role may be in any account.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable

from .policy_eval import wildcard_match
from .policy_grammar import as_list, statements
from .state import AccessEntry, AssociatedAccessPolicy, PodIdentityAssociation, SimState, eks
from .wire import AwsError, AwsRequest, Response, arn_account

POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
ACCESS_ENTRY_TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX")
ACCESS_POLICY_NAMES = (
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
    "AmazonEKSViewPolicy",
)
AUTHENTICATION_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
# As the EKS API: a cluster created without accessConfig takes no access entries.
DEFAULT_AUTHENTICATION_MODE = "CONFIG_MAP"
ACCESS_POLICY_ARNS = {f"arn:aws:eks::aws:cluster-access-policy/{n}": n for n in ACCESS_POLICY_NAMES}

_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
# A namespace name, or a prefix of one followed by a single trailing wildcard ("dev-*").
_NAMESPACE_SCOPE_RE = re.compile(r"^([a-z0-9][-a-z0-9]{0,61}\*|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$")
_ROLE_ARN_RE = re.compile(r"^arn:aws:iam::\d{12}:role/(?:[^*]*/)?([\w+=,.@-]+)$", re.ASCII)
_USER_ARN_RE = re.compile(r"^arn:aws:iam::\d{12}:user/(?:[^*]*/)?([\w+=,.@-]+)$", re.ASCII)
_ID_ALPHABET = string.ascii_lowercase + string.digits

ROLE_DOES_NOT_EXIST = "Role provided in the request does not exist"
INVALID_PRINCIPAL = "The specified principalArn is invalid: invalid principal"


def invalid(message: str, cluster: str | None = None) -> AwsError:
    return AwsError("InvalidParameterException", message, **({"clusterName": cluster} if cluster else {}))


def not_found(message: str, cluster: str | None = None) -> AwsError:
    return AwsError("ResourceNotFoundException", message, status=404, **({"clusterName": cluster} if cluster else {}))


def in_use(message: str, cluster: str) -> AwsError:
    return AwsError("ResourceInUseException", message, status=409, clusterName=cluster)


def entry_not_found(cluster: str) -> AwsError:
    return not_found(
        "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.",
        cluster,
    )


def paginate(req: AwsRequest, items: list, key: str, extra: dict | None = None) -> Response:
    """Offset-based nextToken paging, as opaque to clients as EKS's own tokens."""
    max_results = req.query.get("maxResults", ["100"])[0]
    token = req.query.get("nextToken", ["0"])[0]
    if not max_results.isdigit() or not 1 <= int(max_results) <= 100:
        raise invalid("maxResults must be between 1 and 100")
    if not token.isdigit():
        raise invalid("The nextToken is invalid")
    start, end = int(token), int(token) + int(max_results)
    body = {**(extra or {}), key: items[start:end]}
    if end < len(items):
        body["nextToken"] = str(end)
    return Response.json(body)


class EksLayer:
    def __init__(self, state: SimState) -> None:
        self.state = state
        self._handlers: dict[str, Callable[[AwsRequest], Response]] = {
            "CreatePodIdentityAssociation": self._create_association,
            "DescribePodIdentityAssociation": self._describe_association,
            "ListPodIdentityAssociations": self._list_associations,
            "UpdatePodIdentityAssociation": self._update_association,
            "DeletePodIdentityAssociation": self._delete_association,
            "CreateAccessEntry": self._create_entry,
            "DescribeAccessEntry": self._describe_entry,
            "ListAccessEntries": self._list_entries,
            "UpdateAccessEntry": self._update_entry,
            "DeleteAccessEntry": self._delete_entry,
            "AssociateAccessPolicy": self._associate_policy,
            "ListAssociatedAccessPolicies": self._list_associated_policies,
            "DisassociateAccessPolicy": self._disassociate_policy,
            "ListAccessPolicies": self._list_access_policies,
        }

    def handle(self, req: AwsRequest, call_moto: Callable[[AwsRequest], Response]) -> Response:
        handler = self._handlers.get(req.action or "")
        if handler is not None:
            return handler(req)
        if req.action == "CreateCluster":
            return self._create_cluster(req, call_moto)
        resp = call_moto(req)
        if req.action == "DeleteCluster" and resp.status == 200:
            key = (req.account, req.region, req.path_params["name"])
            self.state.associations.pop(key, None)
            self.state.access_entries.pop(key, None)
        return resp

    def _create_cluster(self, req: AwsRequest, call_moto: Callable[[AwsRequest], Response]) -> Response:
        """moto ignores accessConfig; we keep it on moto's cluster object, where
        moto's serializer finds it for DescribeCluster and ListClusters."""
        access = req.json_body().get("accessConfig") or {}
        mode = access.get("authenticationMode", DEFAULT_AUTHENTICATION_MODE)
        if mode not in AUTHENTICATION_MODES:
            raise invalid(f"Unsupported authentication mode: {mode}")
        resp = call_moto(req)
        if resp.status != 200:
            return resp
        access_config = {
            "authenticationMode": mode,
            "bootstrapClusterCreatorAdminPermissions": access.get("bootstrapClusterCreatorAdminPermissions", True),
        }
        body = json.loads(resp.body)
        eks(req.account, req.region).clusters[body["cluster"]["name"]].access_config = access_config
        body["cluster"]["accessConfig"] = access_config
        return Response(resp.status, resp.headers, json.dumps(body).encode())

    def _cluster(self, req: AwsRequest):
        """moto's cluster named in the path, which must exist."""
        name = req.path_params["name"]
        cluster = eks(req.account, req.region).clusters.get(name)
        if cluster is None:
            raise not_found(f"No cluster found for name: {name}.", name)
        return cluster

    def _access_entry_cluster(self, req: AwsRequest) -> str:
        """Name of the path's cluster, which must exist and accept access entries."""
        cluster = self._cluster(req)
        mode = getattr(cluster, "access_config", {}).get("authenticationMode", DEFAULT_AUTHENTICATION_MODE)
        if mode == "CONFIG_MAP":
            raise AwsError(
                "InvalidRequestException",
                "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
                clusterName=cluster.name,
            )
        return cluster.name

    def _propagated_role(self, arn: object, account: str | None):
        """The role `arn` names once IAM propagated it, if it is in `account` (None: any account)."""
        if not isinstance(arn, str) or not _ROLE_ARN_RE.match(arn) or account not in (None, arn_account(arn)):
            return None
        role = self.state.role_by_arn(arn)
        return role if role is not None and self.state.is_propagated(role) else None

    # --- Pod Identity associations ---------------------------------------------------

    def associations(self, account: str, region: str, cluster: str) -> dict[str, PodIdentityAssociation]:
        return self.state.associations.setdefault((account, region, cluster), {})

    def find_association(
        self, account: str, region: str, cluster: str, namespace: str, service_account: str
    ) -> PodIdentityAssociation | None:
        return next(
            (a for a in self.associations(account, region, cluster).values()
             if (a.namespace, a.service_account) == (namespace, service_account)),
            None,
        )

    def _association(self, req: AwsRequest) -> PodIdentityAssociation:
        cluster = self._cluster(req).name
        association_id = req.path_params["associationId"]
        association = self.associations(req.account, req.region, cluster).get(association_id)
        if association is None:
            raise not_found(f"No Pod Identity Association found for id: {association_id}", cluster)
        return association

    def _check_role(self, arn: object, cluster: str, account: str | None, needs_pod_trust: bool) -> None:
        role = self._propagated_role(arn, account)
        if role is None:
            raise invalid(ROLE_DOES_NOT_EXIST, cluster)
        if needs_pod_trust and not _trusts_pod_identity(json.loads(role.assume_role_policy_document)):
            raise invalid("Trust policy of the role provided is invalid", cluster)

    def _check_session_settings(self, disable_session_tags: bool, policy: object, cluster: str) -> None:
        if policy is not None:
            if not disable_session_tags:
                raise invalid("A session policy can only be specified when disableSessionTags is true", cluster)
            if not isinstance(policy, str) or len(policy) > 2048:
                raise invalid("The session policy must be a string of at most 2048 characters", cluster)

    def _create_association(self, req: AwsRequest) -> Response:
        cluster = self._cluster(req).name
        body = req.json_body()
        for field_name in ("namespace", "serviceAccount", "roleArn"):
            if not isinstance(body.get(field_name), str) or not body[field_name]:
                raise invalid(f"{field_name} is required", cluster)
        namespace, service_account = body["namespace"], body["serviceAccount"]
        if not _DNS_LABEL_RE.match(namespace):
            raise invalid(f"Namespace {namespace} is not a valid Kubernetes namespace name", cluster)
        if len(service_account) > 253 or not _DNS_SUBDOMAIN_RE.match(service_account):
            raise invalid(f"Service account {service_account} is not a valid Kubernetes service account name", cluster)
        self._check_role(body["roleArn"], cluster, req.account, needs_pod_trust=True)
        target = body.get("targetRoleArn") or None
        if target is not None:
            self._check_role(target, cluster, None, needs_pod_trust=False)
        disable = bool(body.get("disableSessionTags", False))
        self._check_session_settings(disable, body.get("policy"), cluster)
        tags = body.get("tags") or {}
        if not isinstance(tags, dict) or len(tags) > 50:
            raise invalid("At most 50 tags are allowed", cluster)
        existing = self.find_association(req.account, req.region, cluster, namespace, service_account)
        if existing is not None:
            if body.get("clientRequestToken") and existing.client_request_token == body["clientRequestToken"]:
                return Response.json({"association": existing.to_api()})
            raise in_use("Association already exists", cluster)

        association_id = "a-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))
        now = time.time()
        association = PodIdentityAssociation(
            association_id=association_id,
            association_arn=f"arn:aws:eks:{req.region}:{req.account}:podidentityassociation/{cluster}/{association_id}",
            cluster_name=cluster,
            namespace=namespace,
            service_account=service_account,
            role_arn=body["roleArn"],
            created_at=now,
            modified_at=now,
            tags=tags,
            disable_session_tags=disable,
            target_role_arn=target,
            external_id=str(uuid.uuid4()) if target else None,
            policy=body.get("policy"),
            client_request_token=body.get("clientRequestToken"),
        )
        self.associations(req.account, req.region, cluster)[association_id] = association
        return Response.json({"association": association.to_api()})

    def _describe_association(self, req: AwsRequest) -> Response:
        return Response.json({"association": self._association(req).to_api()})

    def _list_associations(self, req: AwsRequest) -> Response:
        cluster = self._cluster(req).name
        namespace = req.query.get("namespace", [None])[0]
        service_account = req.query.get("serviceAccount", [None])[0]
        found = [
            a.summary()
            for a in self.associations(req.account, req.region, cluster).values()
            if namespace in (None, a.namespace) and service_account in (None, a.service_account)
        ]
        return paginate(req, found, "associations")

    def _update_association(self, req: AwsRequest) -> Response:
        association = self._association(req)
        cluster = association.cluster_name
        body = req.json_body()
        if "roleArn" in body:
            self._check_role(body["roleArn"], cluster, req.account, needs_pod_trust=True)
        if body.get("targetRoleArn"):
            self._check_role(body["targetRoleArn"], cluster, None, needs_pod_trust=False)
        disable = bool(body.get("disableSessionTags", association.disable_session_tags))
        policy = body.get("policy", association.policy) or None
        self._check_session_settings(disable, policy, cluster)

        if "roleArn" in body:
            association.role_arn = body["roleArn"]
        if "targetRoleArn" in body:
            # An empty string removes the target role, and with it the external id EKS generated.
            association.target_role_arn = body["targetRoleArn"] or None
            association.external_id = (association.external_id or str(uuid.uuid4())) if association.target_role_arn else None
        association.disable_session_tags = disable
        association.policy = policy
        association.modified_at = time.time()
        return Response.json({"association": association.to_api()})

    def _delete_association(self, req: AwsRequest) -> Response:
        association = self._association(req)
        del self.associations(req.account, req.region, association.cluster_name)[association.association_id]
        return Response.json({"association": association.to_api()})

    # --- access entries ---------------------------------------------------------------

    def entries(self, account: str, region: str, cluster: str) -> dict[str, AccessEntry]:
        return self.state.access_entries.setdefault((account, region, cluster), {})

    def _entry(self, req: AwsRequest) -> AccessEntry:
        cluster = self._access_entry_cluster(req)
        entry = self.entries(req.account, req.region, cluster).get(req.path_params["principalArn"])
        if entry is None:
            raise entry_not_found(cluster)
        return entry

    def _check_principal(self, arn: object, cluster: str, account: str) -> tuple[str, str]:
        """(kind, name) of a valid access-entry principal: an existing IAM role or user of the cluster's account."""
        if isinstance(arn, str):
            role_match, user_match = _ROLE_ARN_RE.match(arn), _USER_ARN_RE.match(arn)
            if role_match and "/aws-service-role/" not in arn and self._propagated_role(arn, account) is not None:
                return "role", role_match.group(1)
            if user_match and arn_account(arn) == account and self.state.user_id_by_arn(arn) is not None:
                return "user", user_match.group(1)
        raise invalid(INVALID_PRINCIPAL, cluster)

    @staticmethod
    def _check_groups(groups: object, entry_type: str, cluster: str) -> list[str]:
        if groups is None:
            return []
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise invalid("kubernetesGroups must be a list of non-empty strings", cluster)
        if groups and entry_type != "STANDARD":
            raise invalid(f"kubernetesGroups can only be specified for access entries of type STANDARD, not {entry_type}", cluster)
        if any(g.startswith("system:") for g in groups):
            raise invalid("Kubernetes group names can't start with system:", cluster)
        return groups

    def _create_entry(self, req: AwsRequest) -> Response:
        cluster = self._access_entry_cluster(req)
        body = req.json_body()
        principal_arn = body.get("principalArn")
        kind, name = self._check_principal(principal_arn, cluster, req.account)
        entry_type = body.get("type", "STANDARD")
        if entry_type not in ACCESS_ENTRY_TYPES:
            raise invalid(f"The type {entry_type} is invalid. Valid types: {', '.join(ACCESS_ENTRY_TYPES)}", cluster)
        groups = self._check_groups(body.get("kubernetesGroups"), entry_type, cluster)
        username = body.get("username")
        if username is not None and entry_type != "STANDARD":
            raise invalid(f"username can only be specified for access entries of type STANDARD, not {entry_type}", cluster)
        existing = self.entries(req.account, req.region, cluster).get(principal_arn)
        if existing is not None:
            if body.get("clientRequestToken") and existing.client_request_token == body["clientRequestToken"]:
                return Response.json({"accessEntry": existing.to_api()})
            raise in_use("The specified access entry resource is already in use on this cluster.", cluster)
        tags = body.get("tags") or {}
        if not isinstance(tags, dict) or len(tags) > 50:
            raise invalid("At most 50 tags are allowed", cluster)

        now = time.time()
        entry = AccessEntry(
            cluster_name=cluster,
            principal_arn=principal_arn,
            access_entry_arn=f"arn:aws:eks:{req.region}:{req.account}:access-entry/{cluster}/{kind}/{req.account}/{name}/{uuid.uuid4()}",
            entry_type=entry_type,
            username=username or _default_username(entry_type, kind, name, principal_arn),
            kubernetes_groups=groups,
            created_at=now,
            modified_at=now,
            tags=tags,
            client_request_token=body.get("clientRequestToken"),
        )
        self.entries(req.account, req.region, cluster)[principal_arn] = entry
        return Response.json({"accessEntry": entry.to_api()})

    def _describe_entry(self, req: AwsRequest) -> Response:
        return Response.json({"accessEntry": self._entry(req).to_api()})

    def _list_entries(self, req: AwsRequest) -> Response:
        cluster = self._access_entry_cluster(req)
        policy_arn = req.query.get("associatedPolicyArn", [None])[0]
        found = [
            arn
            for arn, entry in self.entries(req.account, req.region, cluster).items()
            if policy_arn is None or policy_arn in entry.policies
        ]
        return paginate(req, found, "accessEntries")

    def _update_entry(self, req: AwsRequest) -> Response:
        entry = self._entry(req)
        body = req.json_body()
        if "kubernetesGroups" in body:
            entry.kubernetes_groups = self._check_groups(body["kubernetesGroups"], entry.entry_type, entry.cluster_name)
        if "username" in body:
            if entry.entry_type != "STANDARD":
                raise invalid(f"username can only be specified for access entries of type STANDARD, not {entry.entry_type}", entry.cluster_name)
            entry.username = body["username"]
        entry.modified_at = time.time()
        return Response.json({"accessEntry": entry.to_api()})

    def _delete_entry(self, req: AwsRequest) -> Response:
        entry = self._entry(req)
        # The entry's policy associations go with it.
        del self.entries(req.account, req.region, entry.cluster_name)[entry.principal_arn]
        return Response.json({})

    # --- access policies --------------------------------------------------------------

    def _associate_policy(self, req: AwsRequest) -> Response:
        entry = self._entry(req)
        cluster = entry.cluster_name
        body = req.json_body()
        policy_arn = body.get("policyArn")
        if policy_arn not in ACCESS_POLICY_ARNS:
            raise not_found(f"The specified policyArn {policy_arn} could not be found.", cluster)
        if entry.entry_type != "STANDARD":
            raise invalid(f"Access policies can only be associated with access entries of type STANDARD, not {entry.entry_type}", cluster)
        scope = _check_scope(body.get("accessScope"), cluster)
        now = time.time()
        existing = entry.policies.get(policy_arn)
        # Associating an already associated policy replaces its scope.
        entry.policies[policy_arn] = AssociatedAccessPolicy(
            policy_arn=policy_arn,
            access_scope=scope,
            associated_at=existing.associated_at if existing else now,
            modified_at=now,
        )
        return Response.json(
            {"clusterName": cluster, "principalArn": entry.principal_arn, "associatedAccessPolicy": entry.policies[policy_arn].to_api()}
        )

    def _list_associated_policies(self, req: AwsRequest) -> Response:
        entry = self._entry(req)
        return paginate(
            req,
            [p.to_api() for p in entry.policies.values()],
            "associatedAccessPolicies",
            {"clusterName": entry.cluster_name, "principalArn": entry.principal_arn},
        )

    def _disassociate_policy(self, req: AwsRequest) -> Response:
        entry = self._entry(req)
        if entry.policies.pop(req.path_params["policyArn"], None) is None:
            raise not_found(f"The specified policyArn {req.path_params['policyArn']} is not associated with this access entry.", entry.cluster_name)
        return Response.json({})

    def _list_access_policies(self, req: AwsRequest) -> Response:
        return paginate(req, [{"name": n, "arn": a} for a, n in ACCESS_POLICY_ARNS.items()], "accessPolicies")


def _check_scope(scope: object, cluster: str) -> dict:
    if not isinstance(scope, dict) or scope.get("type") not in ("cluster", "namespace"):
        raise invalid("accessScope.type must be one of [cluster, namespace]", cluster)
    namespaces = scope.get("namespaces") or []
    if not isinstance(namespaces, list) or not all(isinstance(n, str) for n in namespaces):
        raise invalid("accessScope.namespaces must be a list of strings", cluster)
    if scope["type"] == "cluster":
        if namespaces:
            raise invalid("Namespaces can't be specified for an access scope of type cluster", cluster)
        return {"type": "cluster", "namespaces": []}
    if not namespaces:
        raise invalid("At least one namespace is required for an access scope of type namespace", cluster)
    for namespace in namespaces:
        if not _NAMESPACE_SCOPE_RE.match(namespace):
            raise invalid(f"Namespace {namespace} is invalid; only a trailing wildcard is allowed", cluster)
    return {"type": "namespace", "namespaces": namespaces}


def _default_username(entry_type: str, kind: str, name: str, principal_arn: str) -> str:
    if entry_type in ("EC2_LINUX", "EC2_WINDOWS"):
        return "system:node:{{EC2PrivateDNSName}}"
    if entry_type != "STANDARD":
        return "system:node:{{SessionName}}"
    if kind == "role":
        return f"arn:aws:sts::{arn_account(principal_arn)}:assumed-role/{name}/{{{{SessionName}}}}"
    return principal_arn


def _trusts_pod_identity(trust: dict) -> bool:
    """Does some Allow statement name the Pod Identity service for sts:AssumeRole?
    Conditions are not evaluated: they depend on the pod, known only at run time."""
    for stmt in statements(trust):
        principal = stmt.get("Principal")
        services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if stmt["Effect"] == "Allow" and (principal == "*" or POD_IDENTITY_SERVICE in services):
            if any(wildcard_match(a, "sts:AssumeRole", ignore_case=True) for a in as_list(stmt.get("Action", []))):
                return True
    return False
