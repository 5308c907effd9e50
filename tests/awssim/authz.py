"""Authorisation of every request a non-admin caller makes, before it reaches
moto or our layers: the request is mapped to the (action, resource ARN,
condition keys) checks AWS makes for it, and each must be allowed by the
caller's identity policies within its permissions boundary (identity.py).

Resources, per the Service Authorization Reference, in the caller's account:
- IAM role actions: arn:aws:iam::ACCOUNT:role{Path}{RoleName}, the stored path
  when the call has no Path; users, groups, instance profiles likewise;
  managed-policy actions: the PolicyArn; CreatePolicy: policy{Path}{PolicyName};
  actions without a resource type (GetAccountSummary, ListRoles, …): "*".
- EKS: cluster/NAME for cluster-level calls (DescribeCluster, List…, the Create
  of an association or access entry), podidentityassociation/CLUSTER/ID,
  access-entry/CLUSTER/role|user/ACCOUNT/NAME/UUID (the entry's ARN; "*" in
  place of the UUID when there is no such entry), the resourceArn of the tag
  calls, "*" for CreateCluster, ListClusters and ListAccessPolicies.
- STS: GetCallerIdentity needs no permission; AssumeRole is decided in the STS
  layer (trust and identity together); other STS calls act on "*".
- Secrets Manager: the secret its SecretId names, by its full ARN (with the
  random suffix); the ARN of the name given when there is no such secret;
  calls naming no secret act on "*".
- KMS: the key its KeyId names (key id, key ARN, alias or alias ARN), by the
  key's ARN; Decrypt without a KeyId: the key its ciphertext names; "*" else.

Dependent checks AWS makes too: iam:TagRole (TagUser, TagPolicy,
TagInstanceProfile) for a create call that carries tags; iam:PassRole for the
role handed to EKS (CreatePodIdentityAssociation, UpdatePodIdentityAssociation
with a roleArn, CreateCluster) with iam:PassedToService; kms:Decrypt of the
secret's customer managed key for GetSecretValue, which Secrets Manager makes
with the caller's identity (kms:ViaService = secretsmanager.REGION.amazonaws.com,
kms:CallerAccount, the SecretARN encryption context). A secret under the AWS
managed key aws/secretsmanager needs none: that key's policy allows every
principal of the account through Secrets Manager. Key policies are not
emulated: every key delegates to IAM policies, as the default key policy does.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from moto.kms.models import kms_backends
from moto.kms.utils import KEY_ID_LEN
from moto.secretsmanager.models import SecretsManagerBackend, secretsmanager_backends

from .eks_layer import POD_IDENTITY_SERVICE
from .identity import Caller, access_denied, denial_reason
from .policy_eval import EvalRequest
from .state import SimState, eks, iam
from .wire import AwsRequest, arn_account, query_list, query_tags

# Create calls whose tags are authorised as a separate Tag* action.
_TAG_ON_CREATE = {"CreateRole": "iam:TagRole", "CreateUser": "iam:TagUser", "CreatePolicy": "iam:TagPolicy",
                  "CreateInstanceProfile": "iam:TagInstanceProfile"}
# Actions IAM evaluates iam:PolicyARN for (Service Authorization Reference).
_POLICY_ARN_ACTIONS = {"AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy",
                       "AttachGroupPolicy", "DetachGroupPolicy"}
# Actions IAM evaluates iam:PermissionsBoundary for (Service Authorization Reference): the boundary
# requested, for the first group; the entity's current one, for the second.  Not TagRole, GetRole, ...
_BOUNDARY_REQUESTED = {"CreateRole", "PutRolePermissionsBoundary", "CreateUser", "PutUserPermissionsBoundary"}
_BOUNDARY_CURRENT = {"DeleteRolePermissionsBoundary", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy",
                     "DetachRolePolicy", "UpdateAssumeRolePolicy", "UpdateRole", "UpdateRoleDescription", "DeleteRole"}
# STS calls that need no permission, or that the STS layer decides itself.
_STS_UNCHECKED = {"GetCallerIdentity", "AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


@dataclass
class Check:
    action: str
    resource: str
    # Condition keys this request adds (lower-cased), beside the caller's global ones.
    context: dict[str, list[str]] = field(default_factory=dict)


def authorize(state: SimState, req: AwsRequest, caller: Caller | None) -> None:
    """Raise AccessDenied(Exception) for the first check the caller's policies refuse."""
    if caller is None or caller.is_admin:
        return
    base = request_context(caller, req.region)
    for check in required_checks(state, req):
        request = EvalRequest(check.action, check.resource, {**base, **check.context})
        reason = denial_reason(state, caller, request)
        if reason is not None:
            raise access_denied(req.service, caller, check.action, check.resource, reason)


def request_context(caller: Caller, region: str) -> dict[str, list[str]]:
    """Condition keys every request of `caller` to `region` carries."""
    return {**caller.context(), "aws:requestedregion": [region], "aws:securetransport": ["false"],
            "aws:viaawsservice": ["false"]}


def required_checks(state: SimState, req: AwsRequest) -> list[Check]:
    if not req.action:
        # Nothing we can name; moto answers it (InvalidAction, unknown route).
        return []
    if req.service == "iam":
        return _iam_checks(req, iam(req.account))
    if req.service == "sts":
        return [] if req.action in _STS_UNCHECKED else [Check(f"sts:{req.action}", "*")]
    if req.service == "eks":
        return _eks_checks(state, req)
    if req.service == "secretsmanager":
        return _secrets_checks(req)
    if req.service == "kms":
        return [_kms_check(req)]
    return [Check(f"{req.service}:{req.action}", "*")]


# --- IAM ---------------------------------------------------------------------------


def _find_role(backend, name: str):
    # IAM role names are unique case-insensitively.
    return next((r for r in backend.roles.values() if r.name.lower() == name.lower()), None)


def tag_context(request_tags: dict[str, str] | None = None, resource_tags: dict[str, str] | None = None,
                tag_keys: list[str] | None = None, iam_resource: bool = False) -> dict[str, list[str]]:
    ctx: dict[str, list[str]] = {}
    for key, value in (request_tags or {}).items():
        ctx[f"aws:requesttag/{key.lower()}"] = [value]
    keys = list(request_tags or {}) + list(tag_keys or [])
    if keys:
        ctx["aws:tagkeys"] = keys
    for key, value in (resource_tags or {}).items():
        ctx[f"aws:resourcetag/{key.lower()}"] = [value]
        if iam_resource:
            ctx[f"iam:resourcetag/{key.lower()}"] = [value]
    return ctx


def _with_path(account: str, kind: str, path: str | None, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}{path or '/'}{name}"


def _iam_checks(req: AwsRequest, backend) -> list[Check]:
    p, action = req.params, req.action or ""
    resource, ctx = "*", {}
    role = None
    if action in ("CreateRole", "CreateUser", "CreateGroup", "CreateInstanceProfile", "CreatePolicy"):
        kind, name_key = {"CreateRole": ("role", "RoleName"), "CreateUser": ("user", "UserName"),
                          "CreateGroup": ("group", "GroupName"), "CreateInstanceProfile": ("instance-profile", "InstanceProfileName"),
                          "CreatePolicy": ("policy", "PolicyName")}[action]
        resource = _with_path(req.account, kind, p.get("Path"), p.get(name_key, ""))
    elif "InstanceProfile" in action and "InstanceProfileName" in p:
        profile = backend.instance_profiles.get(p["InstanceProfileName"])
        resource = profile.arn if profile is not None else _with_path(req.account, "instance-profile", "/", p["InstanceProfileName"])
    elif "RoleName" in p:
        role = _find_role(backend, p["RoleName"])
        resource = role.arn if role is not None else _with_path(req.account, "role", "/", p["RoleName"])
    elif "Group" in action and "GroupName" in p:
        group = backend.groups.get(p["GroupName"])
        resource = group.arn if group is not None else _with_path(req.account, "group", "/", p["GroupName"])
    elif "UserName" in p:
        user = backend.users.get(p["UserName"])
        resource = user.arn if user is not None else _with_path(req.account, "user", "/", p["UserName"])
    elif "PolicyArn" in p:
        resource = p["PolicyArn"]

    request_tags = query_tags(p)
    resource_tags = {t["Key"]: t["Value"] for t in role.tags} if role is not None else {}
    ctx.update(tag_context(request_tags, resource_tags, query_list(p, "TagKeys"), iam_resource=True))
    if action in _BOUNDARY_REQUESTED:
        if p.get("PermissionsBoundary"):
            ctx["iam:permissionsboundary"] = [p["PermissionsBoundary"]]
    elif action in _BOUNDARY_CURRENT and role is not None and role.permissions_boundary_arn:
        ctx["iam:permissionsboundary"] = [role.permissions_boundary_arn]
    if action in _POLICY_ARN_ACTIONS and "PolicyArn" in p:
        ctx["iam:policyarn"] = [p["PolicyArn"]]

    checks = [Check(f"iam:{action}", resource, ctx)]
    if request_tags and action in _TAG_ON_CREATE:
        # Creating with tags also needs permission to tag (IAM User Guide, "Permissions for tagging").
        checks.append(Check(_TAG_ON_CREATE[action], resource, tag_context(request_tags)))
    return checks


# --- EKS ---------------------------------------------------------------------------


def _eks_arn(account: str, region: str, rest: str) -> str:
    return f"arn:aws:eks:{region}:{account}:{rest}"


def _body(req: AwsRequest) -> dict:
    return req.json_body() if req.method in ("POST", "PUT", "PATCH") else {}


def _pass_role(state: SimState, role_arn: object, service: str) -> Check | None:
    if not isinstance(role_arn, str) or not role_arn:
        return None
    role = state.role_by_arn(role_arn)
    resource_tags = {t["Key"]: t["Value"] for t in role.tags} if role is not None else {}
    ctx = {"iam:passedtoservice": [service], **tag_context(resource_tags=resource_tags, iam_resource=True)}
    return Check("iam:PassRole", role.arn if role is not None else role_arn, ctx)


def access_entry_arn(state: SimState, account: str, region: str, cluster: str, principal_arn: str) -> str:
    entry = state.access_entries.get((account, region, cluster), {}).get(principal_arn)
    if entry is not None:
        return entry.access_entry_arn
    # No such entry: its ARN without the UUID EKS would have given it.
    arn_parts = principal_arn.split(":", 5)
    principal_account = arn_account(principal_arn) or account
    kind, _, name = (arn_parts[5] if len(arn_parts) == 6 else principal_arn).partition("/")
    return _eks_arn(account, region, f"access-entry/{cluster}/{kind}/{principal_account}/{name.rsplit('/', 1)[-1]}/*")


def _eks_resource(state: SimState, req: AwsRequest) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """(resource ARN, its tags, condition keys it implies) for an EKS call."""
    path, region, account = req.path_params, req.region, req.account
    cluster = path.get("name", "")
    if req.action == "CreateCluster":
        return "*", {}, {}
    if "associationId" in path:
        association = state.associations.get((account, region, cluster), {}).get(path["associationId"])
        tags = dict(association.tags) if association is not None else {}
        return _eks_arn(account, region, f"podidentityassociation/{cluster}/{path['associationId']}"), tags, {}
    if "principalArn" in path:
        entry = state.access_entries.get((account, region, cluster), {}).get(path["principalArn"])
        tags = dict(entry.tags) if entry is not None else {}
        return access_entry_arn(state, account, region, cluster, path["principalArn"]), tags, {}
    if "resourceArn" in path:
        return path["resourceArn"], {}, {}
    if cluster:
        moto_cluster = eks(account, region).clusters.get(cluster)
        tags = dict(getattr(moto_cluster, "tags", None) or {}) if moto_cluster is not None else {}
        return _eks_arn(account, region, f"cluster/{cluster}"), tags, {}
    return "*", {}, {}


def _eks_checks(state: SimState, req: AwsRequest) -> list[Check]:
    action, body = req.action, _body(req)
    resource, resource_tags, ctx = _eks_resource(state, req)
    tags = body["tags"] if isinstance(body.get("tags"), dict) else {}
    ctx.update(tag_context({str(k): str(v) for k, v in tags.items()}, resource_tags, req.query.get("tagKeys")))
    if action == "CreateAccessEntry":
        for key, field_name in (("eks:principalarn", "principalArn"), ("eks:username", "username"), ("eks:accessentrytype", "type")):
            if isinstance(body.get(field_name), str):
                ctx[key] = [body[field_name]]
        if isinstance(body.get("kubernetesGroups"), list):
            ctx["eks:kubernetesgroups"] = [str(g) for g in body["kubernetesGroups"]]
    elif action == "AssociateAccessPolicy":
        scope = body["accessScope"] if isinstance(body.get("accessScope"), dict) else {}
        if isinstance(body.get("policyArn"), str):
            ctx["eks:policyarn"] = [body["policyArn"]]
        if isinstance(scope.get("type"), str):
            ctx["eks:accessscope"] = [scope["type"]]
        if isinstance(scope.get("namespaces"), list):
            ctx["eks:namespaces"] = [str(n) for n in scope["namespaces"]]
    elif action == "DisassociateAccessPolicy":
        ctx["eks:policyarn"] = [req.path_params.get("policyArn", "")]

    checks = [Check(f"eks:{action}", resource, ctx)]
    passed = None
    if action == "CreateCluster":
        passed = _pass_role(state, body.get("roleArn"), "eks.amazonaws.com")
    elif action in ("CreatePodIdentityAssociation", "UpdatePodIdentityAssociation"):
        # EKS hands the role to the Pod Identity service: the caller must be allowed to pass it.
        passed = _pass_role(state, body.get("roleArn"), POD_IDENTITY_SERVICE)
    return checks + ([passed] if passed is not None else [])


# --- Secrets Manager and KMS -------------------------------------------------------


def _key_arn(account: str, region: str, key_id: str) -> str:
    """The ARN of the key `key_id` names; for a key or alias KMS does not have, the ARN it would have."""
    backend = kms_backends[account][region]
    alias = backend.get_alias_name(key_id)
    target = backend.get_key_id_from_alias(alias) if alias.startswith("alias/") else backend.get_key_id(key_id)
    key = backend.keys.get(target) if target else None
    if key is not None:
        return key.arn
    if key_id.startswith("arn:"):
        return key_id
    return f"arn:aws:kms:{region}:{account}:{alias if alias.startswith('alias/') else 'key/' + key_id}"


def _ciphertext_key(blob: object) -> str | None:
    # moto's ciphertext blob starts with the id of the key that made it.
    try:
        return base64.b64decode(str(blob), validate=True)[:KEY_ID_LEN].decode("ascii") or None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _kms_check(req: AwsRequest) -> Check:
    body = req.json_body()
    key_id = body.get("KeyId") or (_ciphertext_key(body.get("CiphertextBlob")) if req.action == "Decrypt" else None)
    resource = _key_arn(req.account, req.region, key_id) if isinstance(key_id, str) else "*"
    return Check(f"kms:{req.action}", resource, {"kms:calleraccount": [req.account]})


def _secrets_checks(req: AwsRequest) -> list[Check]:
    secret_id = req.json_body().get("SecretId")
    if not isinstance(secret_id, str):
        return [Check(f"secretsmanager:{req.action}", "*")]
    secret = secretsmanager_backends[req.account][req.region].secrets.get(secret_id)
    if secret is None:
        arn = secret_id if secret_id.startswith("arn:") else f"arn:aws:secretsmanager:{req.region}:{req.account}:secret:{secret_id}"
        return [Check(f"secretsmanager:{req.action}", arn)]
    tags = {t["Key"]: t["Value"] for t in secret.tags or []}
    checks = [Check(f"secretsmanager:{req.action}", secret.arn, tag_context(resource_tags=tags))]
    key = secret.kms_key_id
    if req.action == "GetSecretValue" and key and key != SecretsManagerBackend.DEFAULT_KMS_KEY_ALIAS:
        # Secrets Manager decrypts the secret with the caller's own permissions.
        checks.append(Check("kms:Decrypt", _key_arn(req.account, req.region, key), {
            "kms:calleraccount": [req.account], "kms:viaservice": [f"secretsmanager.{req.region}.amazonaws.com"],
            "kms:encryptioncontext:secretarn": [secret.arn]}))
    return checks
