"""Who is calling, and what their identity policies allow.

A request is signed with an access key; that key is one of
- an administrator key: `testing` for the default account, `testing-<account
  id>` for any other account; that account's admin user, allowed everything
  by identity policy (test set-up uses it);
- a long-term key of an IAM user in moto (made by `POST /_awssim/principals`
  or by IAM CreateAccessKey): that user, with its inline, attached and group
  policies, bounded by the permissions boundary awssim keeps for it;
- a temporary key our STS or Pod Identity endpoint issued: that role session,
  with the role's inline and attached policies, bounded by the role's
  permissions boundary (session policies are not emulated).
Any other key is refused the way AWS refuses it.  The caller's account is
the account the request acts in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from moto.iam.models import Role, User

from .policy_eval import Decision, EvalRequest, evaluate
from .state import Session, SimState, iam, iam_accounts, load_document, policy_document
from .wire import ACCOUNT_ID, JSON_SERVICES, AwsError, AwsRequest, is_account_id

ADMIN_ACCESS_KEY = "testing"
ADMIN_NAME = "awssim-admin"
ADMIN_USER_ID = "AIDAAWSSIMADMIN000001"


def admin_account(key: str) -> str | None:
    """The account whose administrator owns `key`, if one does."""
    if key == ADMIN_ACCESS_KEY:
        return ACCOUNT_ID
    prefix, _, account = key.partition("-")
    return account if prefix == ADMIN_ACCESS_KEY and is_account_id(account) else None

# Unsigned calls AWS accepts: the credentials come from the token in the request.
UNSIGNED_ACTIONS = {("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


class AccessDeniedError(AwsError):
    """AccessDenied (query protocol) / AccessDeniedException (EKS) naming the refused action."""

    def __init__(self, code: str, message: str, action: str, resource: str):
        super().__init__(code, message, status=403)
        self.action = action
        self.resource = resource


@dataclass
class Caller:
    arn: str
    # ARN that aws:PrincipalArn reports: the role's ARN for a role session.
    principal_arn: str
    user_id: str
    account: str
    session: Session | None = None
    role: Role | None = None
    user: User | None = None
    # A service principal such as pods.eks.amazonaws.com.
    service: str | None = None
    is_admin: bool = False

    @classmethod
    def admin(cls, account: str) -> "Caller":
        arn = f"arn:aws:iam::{account}:user/{ADMIN_NAME}"
        return cls(arn, arn, ADMIN_USER_ID, account, is_admin=True)

    @classmethod
    def for_session(cls, session: Session, role: Role | None) -> "Caller":
        return cls(session.arn, session.role_arn, session.user_id, session.account, session=session, role=role)

    @classmethod
    def for_user(cls, user: User, account: str) -> "Caller":
        return cls(user.arn, user.arn, user.id, account, user=user)

    @classmethod
    def for_service(cls, service: str, account: str) -> "Caller":
        """A service acting for `account` (e.g. EKS Pod Identity for the cluster's account)."""
        return cls(service, service, service, account, service=service)

    @property
    def has_identity_policies(self) -> bool:
        """Whether requests are decided by identity policies (users and role sessions)."""
        return self.session is not None or self.user is not None

    def principal_tags(self) -> dict[str, str]:
        tags: dict[str, str] = {}
        if self.role is not None:
            tags.update({t["Key"]: t["Value"] for t in self.role.tags})
        if self.user is not None:
            tags.update({t["Key"]: t["Value"] for t in (self.user.tags or [])})
        if self.session is not None:
            tags.update(self.session.tags)
        return tags

    def context(self) -> dict[str, list[str]]:
        """Global condition keys describing the principal (lower-cased)."""
        if self.service is not None:
            # A service principal has no principal ARN.
            return {"aws:principalaccount": [self.account], "aws:userid": [self.service], "aws:principalservicename": [self.service]}
        ctx = {
            "aws:principalarn": [self.principal_arn],
            "aws:principalaccount": [self.account],
            "aws:userid": [self.user_id],
            "aws:principaltype": ["AssumedRole" if self.session is not None else "User"],
        }
        if self.user is not None:
            ctx["aws:username"] = [self.user.name]
        for key, value in self.principal_tags().items():
            ctx[f"aws:principaltag/{key.lower()}"] = [value]
        return ctx


def _refused(service: str, code: str, message: str, status: int = 403) -> AwsError:
    """AWS's authentication failures: query services use IAM's codes, JSON ones their own."""
    if service in JSON_SERVICES:
        code = {"InvalidClientTokenId": "UnrecognizedClientException", "ExpiredToken": "ExpiredTokenException",
                "MissingAuthenticationToken": "MissingAuthenticationTokenException"}.get(code, code)
        status = 403
    return AwsError(code, message, status=status)


def resolve_caller(state: SimState, req: AwsRequest) -> Caller | None:
    """The caller owning the request's access key; None for an unsigned call AWS accepts.
    Raise the service's authentication error for any other key."""
    if not req.access_key and (req.service, req.action) in UNSIGNED_ACTIONS:
        return None
    return caller_of_key(state, req.service, req.access_key, req.security_token)


def caller_of_key(state: SimState, service: str, key: str | None, token: str | None) -> Caller:
    """The caller owning access key `key` (with session `token`), or `service`'s authentication error."""
    if not key:
        raise _refused(service, "MissingAuthenticationToken", "Request is missing Authentication Token")
    account = admin_account(key)
    if account is not None:
        return Caller.admin(account)
    session = state.sessions.get(key)
    if session is not None:
        if token != session.session_token:
            raise _refused(service, "InvalidClientTokenId", INVALID_TOKEN)
        if datetime.now(timezone.utc) >= session.expiration:
            raise _refused(service, "ExpiredToken", EXPIRED_TOKEN, status=400)
        return Caller.for_session(session, state.role_by_id(session.role_id))
    found = user_by_access_key(key)
    # A long-term key is never sent with a session token.
    if found is None or token:
        raise _refused(service, "InvalidClientTokenId", INVALID_TOKEN)
    return Caller.for_user(*found)


def user_by_access_key(key: str) -> tuple[User, str] | None:
    """The user owning an active access key, and its account."""
    for account in iam_accounts():
        for user in iam(account).users.values():
            for access_key in user.access_keys:
                if access_key.access_key_id == key and access_key.status == "Active":
                    return user, account
    return None


# --- identity policies ----------------------------------------------------------


def identity_documents(caller: Caller) -> list[dict]:
    """Inline + attached managed policies (+ group policies for a user)."""
    docs: list[dict] = []
    if caller.role is not None:
        docs += [load_document(d) for d in caller.role.policies.values()]
        docs += [policy_document(p) for p in caller.role.managed_policies.values()]
    if caller.user is not None:
        docs += [load_document(d) for d in caller.user.policies.values()]
        docs += [policy_document(p) for p in caller.user.managed_policies.values()]
        for group in iam(caller.account).get_groups_for_user(caller.user.name):
            docs += [load_document(d) for d in getattr(group, "policies", {}).values()]
            docs += [policy_document(p) for p in getattr(group, "managed_policies", {}).values()]
    return docs


def boundary_documents(state: SimState, caller: Caller) -> list[dict] | None:
    """The permissions boundary's document, or None when the principal has none."""
    if caller.role is not None:
        policy = iam(caller.account).managed_policies.get(caller.role.permissions_boundary_arn or "")
        return None if policy is None else [policy_document(policy)]
    if caller.user is not None:
        # moto has no user permissions boundaries; awssim keeps them (a document or a policy ARN).
        boundary = state.user_boundaries.get(caller.user.id)
        if boundary is None:
            return None
        if isinstance(boundary, str):
            policy = iam(caller.account).managed_policies.get(boundary)
            return None if policy is None else [policy_document(policy)]
        return [boundary]
    return None


def denial_reason(
    state: SimState, caller: Caller, req: EvalRequest, policies: tuple[list[dict], list[dict] | None] | None = None
) -> str | None:
    """None when identity policies and boundary allow the request, else AWS's
    explanation of what refused it.  Explicit Deny anywhere wins.  `policies`
    (identity documents, boundary) replaces the caller's current ones, for a
    decision made on what an eventually consistent reader still sees."""
    if caller.is_admin:
        return None
    identity_docs, boundary_docs = policies or (identity_documents(caller), boundary_documents(state, caller))
    identity = evaluate(identity_docs, req)
    boundary = Decision.ALLOW if boundary_docs is None else evaluate(boundary_docs, req)
    if identity is Decision.EXPLICIT_DENY:
        return "with an explicit deny in an identity-based policy"
    if boundary is Decision.EXPLICIT_DENY:
        return "with an explicit deny in a permissions boundary"
    if identity is not Decision.ALLOW:
        return f"because no identity-based policy allows the {req.action} action"
    if boundary is not Decision.ALLOW:
        return f"because no permissions boundary allows the {req.action} action"
    return None


def access_denied(service: str, caller: Caller, action: str, resource: str, reason: str | None = None) -> AccessDeniedError:
    message = f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}"
    if reason:
        message += f" {reason}"
    code = "AccessDeniedException" if service in JSON_SERVICES else "AccessDenied"
    return AccessDeniedError(code, message, action, resource)
