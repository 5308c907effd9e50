"""STS that decides AssumeRole by policy, and the sessions it issues.

The caller is whoever owns the SigV4 access key (identity.resolve_caller): an
account's admin (allowed everything by identity policy), an IAM user, or a
session we issued.  A request is allowed when the target's trust policy allows
the caller and, for users and role sessions, the caller's identity policies
(within its permissions boundary) allow it on the target ARN too, for
sts:AssumeRole and, when any session tag applies, sts:TagSession.  Both are
needed whether the target is in the caller's account or another one.  Both
evaluations see the same keys: the caller's (aws:PrincipalTag/* among them),
the session tags as aws:RequestTag/* and aws:TagKeys (inherited transitive
ones included), sts:TransitiveTagKeys, and the target role's tags as
aws:ResourceTag/* and iam:ResourceTag/*.  Trust, a role session's permissions
and the target's tags are read as STS sees them, some time after a change
(SimState.seen_by_sts).  The server asks for no other permission
before AssumeRole reaches this layer, and none at all for GetCallerIdentity.
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

from moto.iam.models import Role

from .identity import AccessDeniedError, Caller, denial_reason, resolve_caller
from .identity import access_denied as identity_access_denied
from .policy_eval import Decision, EvalRequest, evaluate
from .policy_grammar import as_list
from .state import Session, SimState
from .wire import AwsError, AwsRequest, Response, query_list, query_result, query_tags, validation_error

CHAINED_SESSION_LIMIT = 3600
_SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def access_denied(caller: Caller, action: str, resource: str) -> AccessDeniedError:
    # STS names no reason in its AccessDenied for AssumeRole, whichever policy refused it.
    return identity_access_denied("sts", caller, action, resource)


class StsLayer:
    def __init__(self, state: SimState) -> None:
        self.state = state

    def handle(self, req: AwsRequest, call_moto) -> Response:
        if req.action == "AssumeRole":
            return self._assume_role(req)
        if req.action == "GetCallerIdentity":
            caller = self.caller(req)
            return query_result(
                "sts",
                "GetCallerIdentity",
                f"<UserId>{escape(caller.user_id)}</UserId><Account>{caller.account}</Account><Arn>{escape(caller.arn)}</Arn>",
            )
        return call_moto(req)

    def caller(self, req: AwsRequest) -> Caller:
        """The caller the server resolved for this request (see identity.resolve_caller)."""
        caller = req.caller if req.caller is not None else resolve_caller(self.state, req)
        if caller is None:
            raise AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", status=403)
        return caller

    # --- AssumeRole ---------------------------------------------------------------

    def _assume_role(self, req: AwsRequest) -> Response:
        p = req.params
        role_arn = p.get("RoleArn", "")
        session_name = p.get("RoleSessionName", "")
        if not 20 <= len(role_arn) <= 2048:
            raise validation_error(role_arn, "roleArn", "Member must have length greater than or equal to 20")
        if not _SESSION_NAME_RE.match(session_name):
            raise validation_error(session_name, "roleSessionName", r"Member must satisfy regular expression pattern: [\w+=,.@-]*")
        duration_text = p.get("DurationSeconds", "3600")
        if not duration_text.isdigit() or not 900 <= int(duration_text) <= 43200:
            raise validation_error(duration_text, "durationSeconds", "Member must have value between 900 and 43200")
        duration = int(duration_text)
        external_id = p.get("ExternalId")
        if external_id is not None and not _EXTERNAL_ID_RE.match(external_id):
            raise validation_error("***", "externalId", r"Member must satisfy regular expression pattern: [\w+=,.@:\/-]*")
        passed = query_tags(p)
        if len(passed) > 50:
            raise validation_error(len(passed), "tags", "Member must have length less than or equal to 50")

        caller = self.caller(req)
        carried = caller.session.transitive_tags() if caller.session else {}
        lowered = {k.lower() for k in carried}
        if any(k.lower() in lowered for k in passed):
            raise AwsError("InvalidParameterValue", "One or more of the specified session tags conflicts with an inherited transitive tag.")
        tags = {**carried, **passed}
        transitive = set(carried) | set(query_list(p, "TransitiveTagKeys"))

        role = self.state.role_by_arn(role_arn)
        if role is None:
            # STS does not reveal whether a role exists: a missing role is simply not assumable.
            raise access_denied(caller, "sts:AssumeRole", role_arn)
        self.authorize(caller, role, tags, session_name, external_id, transitive, {"aws:requestedregion": [req.region]})

        chained = caller.session is not None
        if chained and duration > CHAINED_SESSION_LIMIT:
            raise AwsError(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            )
        if duration > int(role.max_session_duration or 3600):
            raise AwsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")

        session = self.issue(role, session_name, tags, transitive, chained, duration)
        return query_result(
            "sts",
            "AssumeRole",
            "<AssumedRoleUser>"
            f"<AssumedRoleId>{escape(session.user_id)}</AssumedRoleId><Arn>{escape(session.arn)}</Arn>"
            "</AssumedRoleUser><Credentials>"
            f"<AccessKeyId>{session.access_key_id}</AccessKeyId>"
            f"<SecretAccessKey>{session.secret_access_key}</SecretAccessKey>"
            f"<SessionToken>{session.session_token}</SessionToken>"
            f"<Expiration>{session.expiration.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>"
            "</Credentials>",
        )

    def authorize(
        self,
        caller: Caller,
        role: Role,
        tags: dict[str, str],
        session_name: str,
        external_id: str | None,
        transitive: set[str],
        extra_context: dict[str, list[str]] | None = None,
    ) -> None:
        """Raise AccessDenied unless caller may assume `role` with these session tags."""
        context = self._context(caller, tags, session_name, external_id, transitive)
        context.update(extra_context or {})
        target = self.state.seen_by_sts(role)
        for key, value in (target.tags if target is not None else {}).items():
            # The role being assumed is the request's resource (SAR: both keys, for AssumeRole and TagSession).
            context[f"aws:resourcetag/{key.lower()}"] = [value]
            context[f"iam:resourcetag/{key.lower()}"] = [value]
        policies = None
        if caller.role is not None:
            own = self.state.seen_by_sts(caller.role)
            policies = ([], None) if own is None else (own.identity, own.boundary)
        actions = ["sts:AssumeRole"] + (["sts:TagSession"] if tags else [])
        for action in actions:
            # A role too new for STS to see is as unassumable as a missing one.
            allowed = target is not None and evaluate(
                [target.trust], EvalRequest(action, None, context, lambda block: self._names_caller(block, caller, target.bindings))
            ) is Decision.ALLOW
            if allowed and caller.has_identity_policies:
                # The caller's own policies (within its boundary) must allow it on the target too;
                # a session whose role was deleted has none left.
                allowed = denial_reason(self.state, caller, EvalRequest(action, role.arn, context), policies) is None
            if not allowed:
                raise access_denied(caller, action, role.arn)

    @staticmethod
    def _names_caller(block: object, caller: Caller, bindings: dict[str, str]) -> bool:
        if block == "*":
            return True
        if not isinstance(block, dict):
            return False
        if caller.service is not None:
            return caller.service in as_list(block.get("Service", []))
        for value in as_list(block.get("AWS", [])):
            # An account (or its root) names every principal of that account.
            if value in ("*", caller.account, f"arn:aws:iam::{caller.account}:root", caller.arn):
                return True
            # A role/user ARN names the principal it was bound to when written; a
            # bare unique id is what remains once that principal was deleted.
            bound_id = caller.session.role_id if caller.session else caller.user.id if caller.user else None
            if bound_id is not None and (bindings.get(value) == bound_id or value == bound_id):
                return True
        return False

    @staticmethod
    def _context(
        caller: Caller, tags: dict[str, str], session_name: str, external_id: str | None, transitive: set[str]
    ) -> dict[str, list[str]]:
        ctx = {
            **caller.context(),
            "aws:tagkeys": list(tags),
            "sts:rolesessionname": [session_name],
            "sts:transitivetagkeys": sorted(transitive),
        }
        for key, value in tags.items():
            ctx[f"aws:requesttag/{key.lower()}"] = [value]
        if external_id is not None:
            ctx["sts:externalid"] = [external_id]
        return ctx

    def issue(
        self, role: Role, session_name: str, tags: dict[str, str], transitive: set[str], chained: bool, duration: int
    ) -> Session:
        session = Session(
            access_key_id="ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=base64.b64encode(secrets.token_bytes(30)).decode(),
            session_token=base64.b64encode(secrets.token_bytes(192)).decode(),
            expiration=datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=duration),
            role_id=role.id,
            role_name=role.name,
            role_arn=role.arn,
            session_name=session_name,
            tags=dict(tags),
            transitive_keys=set(transitive),
            chained=chained,
        )
        self.state.sessions[session.access_key_id] = session
        return session
