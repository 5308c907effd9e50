"""IAM behaviour moto lacks: principal validation with a propagation delay,
unique-id binding of trust principals (in any account), policy grammar and
size quotas, name rules, URL-encoded documents in ListRoles, and the record
of each change to a role's trust, permissions or tags that STS sees late.
Everything else goes to moto, in the caller's account.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from urllib.parse import quote
from xml.sax.saxutils import unescape

from . import policy_grammar as grammar
from .state import INLINE_POLICIES_SIZE_QUOTA, SimState, iam
from .wire import AwsError, AwsRequest, Response, validation_error

MANAGED_POLICY_SIZE_QUOTA = 6144

_NAME_PATTERN = r"[\w+=,.@-]+"
_NAME_RE = re.compile(rf"^{_NAME_PATTERN}$", re.ASCII)
_PATH_RE = re.compile(r"^(/|/[\u0021-\u007E]+/)$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_ROOT_RE = re.compile(r"^arn:aws:iam::(\d{12}):root$")
_SESSION_ARN_RE = re.compile(r"^arn:aws:sts::\d{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+$", re.ASCII)
_PRINCIPAL_ARN_RE = re.compile(r"^arn:aws:iam::\d{12}:(role|user)/")
# Writes to a role's trust, permissions or tags, which STS sees only after the propagation delay.
_ROLE_CHANGES = {"UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy",
                 "DetachRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
                 "TagRole", "UntagRole"}
# Writes to a managed policy's default version, which changes every role using it.
_POLICY_CHANGES = {"CreatePolicyVersion", "SetDefaultPolicyVersion"}
_DOC_RE = re.compile(r"(<AssumeRolePolicyDocument>)(.*?)(</AssumeRolePolicyDocument>)", re.DOTALL)

CallMoto = Callable[[AwsRequest], Response]


def _check_name(value: str | None, member: str, max_len: int) -> None:
    if value is None:
        return
    if len(value) < 1:
        raise validation_error(value, member, "Member must have length greater than or equal to 1")
    if len(value) > max_len:
        raise validation_error(value, member, f"Member must have length less than or equal to {max_len}")
    if not _NAME_RE.match(value):
        raise validation_error(value, member, f"Member must satisfy regular expression pattern: {_NAME_PATTERN}")


def _check_document_chars(text: str, member: str) -> None:
    if not grammar.has_valid_characters(text):
        raise validation_error(
            text, member, f"Member must satisfy regular expression pattern: {grammar.DOCUMENT_CHARS_PATTERN}"
        )


def _role_named(backend, name: str):
    return next((r for r in backend.roles.values() if r.name == name), None)


def no_such_role(name: str) -> AwsError:
    return AwsError("NoSuchEntity", f"The role with name {name} cannot be found.", status=404)


class IamLayer:
    def __init__(self, state: SimState) -> None:
        self.state = state
        self._handlers = {
            "CreateRole": self._create_role,
            "UpdateRole": self._update_role,
            "UpdateAssumeRolePolicy": self._update_assume_role_policy,
            "PutRolePolicy": self._put_role_policy,
            "CreatePolicy": self._managed_policy,
            "CreatePolicyVersion": self._managed_policy,
            "DeleteRole": self._delete_role,
            "DeleteUser": self._delete_user,
            "ListRoles": self._list_roles,
        }

    @staticmethod
    def precheck(req: AwsRequest) -> None:
        """Input constraints IAM checks before it authorises the call."""
        _check_name(req.params.get("RoleName"), "roleName", 64)
        _check_name(req.params.get("PolicyName"), "policyName", 128)

    def handle(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        handler = self._handlers.get(req.action or "")
        if req.action == "GetAccountSummary":
            # GetAccountSummary is how a client learns the trust-policy quota; keep it truthful.
            iam(req.account).account_summary._assume_role_policy_size_quota = self.state.config.trust_policy_size_quota
        resp = handler(req, call_moto) if handler else call_moto(req)
        if resp.status == 200:
            self._record_changes(req)
        return resp

    def _record_changes(self, req: AwsRequest) -> None:
        backend = iam(req.account)
        if req.action in _ROLE_CHANGES:
            role = _role_named(backend, req.params.get("RoleName", ""))
            changed = [role] if role is not None else []
        elif req.action in _POLICY_CHANGES:
            arn = req.params.get("PolicyArn")
            changed = [r for r in backend.roles.values() if arn in r.managed_policies or r.permissions_boundary_arn == arn]
        else:
            return
        for role in changed:
            self.state.record_role_change(role)

    # --- roles --------------------------------------------------------------

    def _create_role(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        name = req.params.get("RoleName", "")
        path = req.params.get("Path")
        if path is not None and (len(path) > 512 or not _PATH_RE.match(path)):
            raise validation_error(path, "path", r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)")
        self._check_role_settings(req)
        # moto compares names case-sensitively; IAM does not.
        if any(r.name.lower() == name.lower() for r in iam(req.account).roles.values()):
            raise AwsError("EntityAlreadyExists", f"Role with name {name} already exists.", status=409)
        text, bindings = self._check_trust(req.params.get("AssumeRolePolicyDocument", ""))
        resp = call_moto(req.with_params(AssumeRolePolicyDocument=text))
        if resp.status == 200:
            role = iam(req.account).get_role(name)
            self.state.role_created[role.id] = time.monotonic()
            self.state.trust_bindings[role.id] = bindings
            self.state.record_role_change(role)
        return resp

    def _update_role(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        self._check_role_settings(req)
        return call_moto(req)

    @staticmethod
    def _check_role_settings(req: AwsRequest) -> None:
        description = req.params.get("Description")
        if description is not None and len(description) > 1000:
            raise validation_error(description, "description", "Member must have length less than or equal to 1000")
        duration = req.params.get("MaxSessionDuration")
        if duration is not None:
            if not duration.isdigit() or int(duration) < 3600:
                raise validation_error(duration, "maxSessionDuration", "Member must have value greater than or equal to 3600")
            if int(duration) > 43200:
                raise validation_error(duration, "maxSessionDuration", "Member must have value less than or equal to 43200")

    def _update_assume_role_policy(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        name = req.params.get("RoleName", "")
        role = _role_named(iam(req.account), name)
        if role is None:
            raise no_such_role(name)
        text, bindings = self._check_trust(req.params.get("PolicyDocument", ""))
        resp = call_moto(req.with_params(PolicyDocument=text))
        if resp.status == 200:
            self.state.trust_bindings[role.id] = bindings
        return resp

    def _check_trust(self, text: str) -> tuple[str, dict[str, str]]:
        """Validate a trust policy; return the text to store and its principal bindings.

        IAM resolves each role/user principal to its unique id when the policy is
        written (so the principal must exist and be visible already) and rewrites
        a bare account id as the account's root ARN.
        """
        _check_document_chars(text, "assumeRolePolicyDocument")
        quota = self.state.config.trust_policy_size_quota
        if grammar.size_without_whitespace(text) > quota:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for ACLSizePerRole: {quota}", status=409)
        doc = grammar.parse(text, grammar.TRUST)
        bindings: dict[str, str] = {}
        account_roots: dict[str, str] = {}
        for principal in grammar.aws_principals(doc):
            if _ACCOUNT_RE.match(principal):
                account_roots[principal] = f"arn:aws:iam::{principal}:root"
            elif principal == "*" or _ROOT_RE.match(principal) or _SESSION_ARN_RE.match(principal):
                continue
            else:
                bindings[principal] = self._bind_principal(principal)
        if grammar.map_aws_principals(doc, account_roots):
            text = json.dumps(doc)
        return text, bindings

    def _bind_principal(self, arn: str) -> str:
        """The unique id of the role or user `arn` names, in whichever account it is."""
        kind = _PRINCIPAL_ARN_RE.match(arn)
        if kind is not None and kind.group(1) == "role":
            role = self.state.role_by_arn(arn)
            if role is not None and self.state.is_propagated(role):
                return role.id
        elif kind is not None:
            user_id = self.state.user_id_by_arn(arn)
            if user_id is not None:
                return user_id
        raise grammar.invalid_principal("AWS", arn)

    def _delete_role(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        role = _role_named(iam(req.account), req.params.get("RoleName", ""))
        resp = call_moto(req)
        if resp.status == 200 and role is not None:
            self.state.forget_role(role)
            self._unbind(role.id)
        return resp

    def _delete_user(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        user = iam(req.account).users.get(req.params.get("UserName", ""))
        resp = call_moto(req)
        if resp.status == 200 and user is not None:
            self._unbind(user.id)
        return resp

    def _unbind(self, deleted_id: str) -> None:
        """A trust policy naming a deleted principal now shows its unique id, as
        IAM does: the id can never match a principal created later with the same name."""
        for role_id, bindings in self.state.trust_bindings.items():
            mapping = {arn: bound for arn, bound in bindings.items() if bound == deleted_id}
            role = self.state.role_by_id(role_id)
            if not mapping or role is None:
                continue
            doc = json.loads(role.assume_role_policy_document)
            grammar.map_aws_principals(doc, mapping)
            role.assume_role_policy_document = json.dumps(doc)
            for arn in mapping:
                del bindings[arn]
            self.state.record_role_change(role)

    def _list_roles(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        # moto URL-encodes the trust document in GetRole but not in ListRoles; IAM does in both.
        resp = call_moto(req)
        if resp.status != 200:
            return resp

        def encode(m: re.Match) -> str:
            doc = unescape(m.group(2), {"&quot;": '"', "&apos;": "'"})
            return m.group(1) + (quote(doc) if doc.lstrip().startswith("{") else m.group(2)) + m.group(3)

        resp.body = _DOC_RE.sub(encode, resp.body.decode()).encode()
        return resp

    # --- policies -------------------------------------------------------------

    def _put_role_policy(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        name = req.params.get("RoleName", "")
        policy_name = req.params.get("PolicyName", "")
        text = req.params.get("PolicyDocument", "")
        _check_document_chars(text, "policyDocument")
        grammar.parse(text, grammar.IDENTITY)
        role = _role_named(iam(req.account), name)
        if role is None:
            raise no_such_role(name)
        others = sum(grammar.size_without_whitespace(d) for n, d in role.policies.items() if n != policy_name)
        if others + grammar.size_without_whitespace(text) > INLINE_POLICIES_SIZE_QUOTA:
            raise AwsError(
                "LimitExceeded",
                f"Maximum policy size of {INLINE_POLICIES_SIZE_QUOTA} bytes exceeded for role {name}",
                status=409,
            )
        return call_moto(req)

    def _managed_policy(self, req: AwsRequest, call_moto: CallMoto) -> Response:
        text = req.params.get("PolicyDocument", "")
        _check_document_chars(text, "policyDocument")
        if grammar.size_without_whitespace(text) > MANAGED_POLICY_SIZE_QUOTA:
            raise AwsError("LimitExceeded", f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE_QUOTA}", status=409)
        grammar.parse(text, grammar.IDENTITY)
        return call_moto(req)
