"""State the simulator keeps beside moto's, and access to moto's own backends.

moto owns IAM roles/policies and EKS clusters, one backend per account (moto
keys its state by account id); we keep what moto has no notion of: when each
role was created and how its trust and permissions changed (for IAM's
eventual consistency), which unique id each trust-policy principal was bound
to, STS sessions, permissions boundaries of IAM users, and EKS Pod Identity
associations and access entries.  Every request runs under `SimState.lock`,
so layers can read and write both stores without further locking.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from moto.eks.models import eks_backends
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend, Role, iam_backends
from moto.moto_api._internal.models import moto_api_backend

from .wire import arn_account

DEFAULT_PROPAGATION_DELAY = 2.0
DEFAULT_TRUST_POLICY_SIZE_QUOTA = 2048
INLINE_POLICIES_SIZE_QUOTA = 10240
# AWS managed policies every account has here.  A least-privilege deployer must be shown
# unable to attach these, which needs them to exist; moto loads all ~1,600 only when
# asked, at about 0.2 s for each account it creates (every reset), so only these few.
AWS_MANAGED_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess")
_AWS_MANAGED_DATA = {name: d for name, d in json.loads(aws_managed_policies_data).items() if name in AWS_MANAGED_POLICIES}


def _some_aws_managed_policies(backend: IAMBackend) -> list[AWSManagedPolicy]:
    return [AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, d) for name, d in _AWS_MANAGED_DATA.items()]


IAMBackend._init_aws_policies = _some_aws_managed_policies


def iam(account: str) -> object:
    return iam_backends[account]["aws"]


def eks(account: str, region: str) -> object:
    return eks_backends[account][region]


def iam_accounts() -> list[str]:
    """Accounts whose IAM moto has created (on first use)."""
    # A copy: another request may create an account meanwhile (moto issue #5881).
    return list(iam_backends.keys())


def policy_document(policy) -> dict:
    """The default version of a moto managed policy, parsed."""
    version = next(v for v in policy.versions if v.is_default)
    doc = version.document
    return json.loads(doc) if isinstance(doc, str) else doc


def load_document(doc: str | dict) -> dict:
    return json.loads(doc) if isinstance(doc, str) else doc


@dataclass(frozen=True)
class RoleView:
    """A role's trust (with its principal bindings), permissions and tags at one moment."""

    trust: dict
    bindings: dict[str, str]
    identity: list[dict]
    # None: the role has no permissions boundary.
    boundary: list[dict] | None
    # STS decides on a role's tags too (aws:ResourceTag, iam:ResourceTag), as late as on the rest.
    tags: dict[str, str]


@dataclass
class Config:
    propagation_delay: float = DEFAULT_PROPAGATION_DELAY
    trust_policy_size_quota: int = DEFAULT_TRUST_POLICY_SIZE_QUOTA

    def update(self, changes: dict) -> None:
        unknown = set(changes) - {"propagation_delay", "trust_policy_size_quota"}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        if "propagation_delay" in changes:
            delay = float(changes["propagation_delay"])
            if not 0 <= delay <= 120:
                raise ValueError("propagation_delay must be within [0, 120] seconds")
            self.propagation_delay = delay
        if "trust_policy_size_quota" in changes:
            quota = int(changes["trust_policy_size_quota"])
            if not 1 <= quota <= 131072:
                raise ValueError("trust_policy_size_quota must be within [1, 131072]")
            self.trust_policy_size_quota = quota

    def as_dict(self) -> dict:
        return {"propagation_delay": self.propagation_delay, "trust_policy_size_quota": self.trust_policy_size_quota}


@dataclass
class Session:
    """An STS role session we issued credentials for."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    role_id: str
    role_name: str
    role_arn: str
    session_name: str
    # Session tags, keyed by the key as passed; transitive keys are a subset.
    tags: dict[str, str]
    transitive_keys: set[str]
    # A session obtained from another role session (role chaining).
    chained: bool

    @property
    def account(self) -> str:
        return arn_account(self.role_arn) or ""

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{self.account}:assumed-role/{self.role_name}/{self.session_name}"

    @property
    def user_id(self) -> str:
        return f"{self.role_id}:{self.session_name}"

    def transitive_tags(self) -> dict[str, str]:
        return {k: v for k, v in self.tags.items() if k in self.transitive_keys}

    def describe(self) -> dict:
        """What tests may inspect; never the secret key or token."""
        return {
            "accessKeyId": self.access_key_id,
            "arn": self.arn,
            "roleArn": self.role_arn,
            "sessionName": self.session_name,
            "tags": self.tags,
            "transitiveTagKeys": sorted(self.transitive_keys),
            "chained": self.chained,
            "expiration": self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass
class PodIdentityAssociation:
    association_id: str
    association_arn: str
    cluster_name: str
    namespace: str
    service_account: str
    role_arn: str
    created_at: float
    modified_at: float
    tags: dict[str, str] = field(default_factory=dict)
    disable_session_tags: bool = False
    target_role_arn: str | None = None
    external_id: str | None = None
    policy: str | None = None
    # Idempotency token of the create call; a retry with the same token gets this association back.
    client_request_token: str | None = None

    def to_api(self) -> dict:
        body = {
            "clusterName": self.cluster_name,
            "namespace": self.namespace,
            "serviceAccount": self.service_account,
            "roleArn": self.role_arn,
            "associationArn": self.association_arn,
            "associationId": self.association_id,
            "tags": self.tags,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "disableSessionTags": self.disable_session_tags,
        }
        for key, value in (("targetRoleArn", self.target_role_arn), ("externalId", self.external_id), ("policy", self.policy)):
            if value is not None:
                body[key] = value
        return body

    def summary(self) -> dict:
        return {
            "clusterName": self.cluster_name,
            "namespace": self.namespace,
            "serviceAccount": self.service_account,
            "associationArn": self.association_arn,
            "associationId": self.association_id,
        }


@dataclass
class AssociatedAccessPolicy:
    policy_arn: str
    access_scope: dict
    associated_at: float
    modified_at: float

    def to_api(self) -> dict:
        return {
            "policyArn": self.policy_arn,
            "accessScope": self.access_scope,
            "associatedAt": self.associated_at,
            "modifiedAt": self.modified_at,
        }


@dataclass
class AccessEntry:
    cluster_name: str
    principal_arn: str
    access_entry_arn: str
    entry_type: str
    username: str
    kubernetes_groups: list[str]
    created_at: float
    modified_at: float
    tags: dict[str, str] = field(default_factory=dict)
    policies: dict[str, AssociatedAccessPolicy] = field(default_factory=dict)
    client_request_token: str | None = None

    def to_api(self) -> dict:
        return {
            "clusterName": self.cluster_name,
            "principalArn": self.principal_arn,
            "kubernetesGroups": self.kubernetes_groups,
            "accessEntryArn": self.access_entry_arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": self.tags,
            "username": self.username,
            "type": self.entry_type,
        }


class SimState:
    def __init__(self, propagation_delay: float = DEFAULT_PROPAGATION_DELAY) -> None:
        self.lock = threading.RLock()
        self._initial_delay = propagation_delay
        self._clear()

    def _clear(self) -> None:
        self.config = Config(propagation_delay=self._initial_delay)
        # role id -> monotonic time it was created through us
        self.role_created: dict[str, float] = {}
        # role id -> (monotonic time, the role's trust and permissions from then on), oldest first
        self.role_history: dict[str, list[tuple[float, RoleView]]] = {}
        # trusting role id -> {principal ARN as written -> role/user unique id it was bound to}
        self.trust_bindings: dict[str, dict[str, str]] = {}
        self.sessions: dict[str, Session] = {}
        # (account, region, cluster) -> association id -> association
        self.associations: dict[tuple[str, str, str], dict[str, PodIdentityAssociation]] = {}
        # (account, region, cluster) -> principal ARN -> entry
        self.access_entries: dict[tuple[str, str, str], dict[str, AccessEntry]] = {}
        # IAM user id -> permissions boundary (a policy document, or a managed policy ARN);
        # moto has no user boundaries, so awssim keeps them for the principals it creates.
        self.user_boundaries: dict[str, dict | str] = {}

    def reset(self) -> None:
        with self.lock:
            moto_api_backend.reset()
            self._clear()

    def update_config(self, changes: dict) -> None:
        with self.lock:
            self.config.update(changes)

    # --- IAM principals ---------------------------------------------------

    def role_by_arn(self, arn: str) -> Role | None:
        """The role an ARN names now, in the ARN's account (IAM role names are case-insensitive)."""
        account = arn_account(arn)
        if account is None or not arn.startswith("arn:aws:iam::"):
            return None
        for role in iam(account).roles.values():
            if role.arn.lower() == arn.lower():
                return role
        return None

    def role_by_id(self, role_id: str) -> Role | None:
        # Unique ids are unique across accounts.
        for account in iam_accounts():
            role = iam(account).roles.get(role_id)
            if role is not None:
                return role
        return None

    def user_id_by_arn(self, arn: str) -> str | None:
        account = arn_account(arn)
        if account is None:
            return None
        for user in iam(account).users.values():
            if user.arn.lower() == arn.lower():
                return user.id
        return None

    # --- eventual consistency ---------------------------------------------
    # IAM is eventually consistent: a new role is not yet a valid principal,
    # and STS keeps deciding AssumeRole on a role's earlier trust and
    # permissions, for `propagation_delay` seconds after each change.

    def _settled(self, at: float) -> bool:
        return time.monotonic() - at >= self.config.propagation_delay

    def is_propagated(self, role: Role) -> bool:
        created = self.role_created.get(role.id)
        return created is None or self._settled(created)

    def record_role_change(self, role: Role) -> None:
        """Call after each write to a role's trust or permissions."""
        history = self.role_history.setdefault(role.id, [])
        history.append((time.monotonic(), self._view(role)))
        # Older entries than the newest settled one can no longer be seen.
        settled = [i for i, (at, _) in enumerate(history) if self._settled(at)]
        if settled:
            del history[: settled[-1]]

    def forget_role(self, role: Role) -> None:
        self.role_created.pop(role.id, None)
        self.role_history.pop(role.id, None)
        self.trust_bindings.pop(role.id, None)

    def seen_by_sts(self, role: Role) -> RoleView | None:
        """The role as STS sees it now; None while it is too new to be seen at all."""
        history = self.role_history.get(role.id)
        if history is None:
            return self._view(role)
        settled = [view for at, view in history if self._settled(at)]
        return settled[-1] if settled else None

    def unsettled_changes(self) -> int:
        """How many role changes STS does not see yet."""
        return sum(1 for history in self.role_history.values() for at, _ in history if not self._settled(at))

    def _view(self, role: Role) -> RoleView:
        backend = iam(arn_account(role.arn) or "")
        boundary = backend.managed_policies.get(role.permissions_boundary_arn or "")
        return RoleView(
            trust=json.loads(role.assume_role_policy_document),
            bindings=dict(self.trust_bindings.get(role.id, {})),
            identity=[load_document(d) for d in role.policies.values()]
            + [policy_document(p) for p in role.managed_policies.values()],
            boundary=None if boundary is None else [policy_document(boundary)],
            tags={t["Key"]: t["Value"] for t in role.tags},
        )
