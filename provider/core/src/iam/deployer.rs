//! The identity policy whoever runs `pulumi` with this provider needs: every
//! AWS action the provider calls (cloud/sdk.rs), what it acts on, and whether
//! a preview needs it, as one table. `deployer-policy` and the
//! `xpander:index:deployerPolicy` function print documents made from it.

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Check, Diff, Read, refresh and previews: reads only.
    Preview,
    /// Create, update, delete, refresh and import of both resources.
    Deploy,
    /// The `doctor` subcommand and the `diagnose` function: what a preview
    /// reads, plus the documents of attached managed policies. Reads only.
    Doctor,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Preview => "preview",
            Mode::Deploy => "deploy",
            Mode::Doctor => "doctor",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "preview" => Some(Mode::Preview),
            "deploy" => Some(Mode::Deploy),
            "doctor" => Some(Mode::Doctor),
            _ => None,
        }
    }
}

/// What the policy is scoped to; `*` where the caller does not say.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub partition: String,
    pub account_id: String,
    pub region: String,
    /// Every role the provider manages (base and connectors) starts with it.
    pub role_name_prefix: String,
    pub path: String,
    /// Where connectors live when the base role grants a path
    /// (`connectorPath`), if not under `path`.
    pub connector_path: Option<String>,
    pub cluster: String,
    /// A deployer that cannot escalate: it may only create and write roles
    /// held to this permissions boundary, and never remove it.
    pub permissions_boundary: Option<String>,
    /// With a boundary: the only managed policies it may attach.
    pub attachable: Vec<String>,
}

/// The names the seed uses and the example projects keep.
pub const DEFAULT_ROLE_NAME_PREFIX: &str = "xpander-";
pub const DEFAULT_PATH: &str = "/";
pub const DEFAULT_PARTITION: &str = "aws";
/// Any account, region or cluster.
pub const ANY: &str = "*";

impl Default for Scope {
    fn default() -> Self {
        Scope {
            partition: DEFAULT_PARTITION.into(),
            account_id: ANY.into(),
            region: ANY.into(),
            role_name_prefix: DEFAULT_ROLE_NAME_PREFIX.into(),
            path: DEFAULT_PATH.into(),
            connector_path: None,
            cluster: ANY.into(),
            permissions_boundary: None,
            attachable: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Roles,
    /// The base role, handed to EKS Pod Identity.
    PassRole,
    ManagedPolicies,
    /// Actions that support no resource type.
    Account,
    Cluster,
    PodIdentityAssociations,
    AccessEntries,
}

/// Who needs an action: a preview (and refresh), a deployment, or only the
/// doctor and the `diagnose` function, which read more than any deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Preview,
    Deploy,
    Doctor,
    /// Deployments and the doctor, not previews.
    DeployAndDoctor,
}

/// (action, target, who needs it)
const ACTIONS: &[(&str, Target, Need)] = &[
    ("iam:GetRole", Target::Roles, Need::Preview),
    ("iam:ListRolePolicies", Target::Roles, Need::Preview),
    ("iam:GetRolePolicy", Target::Roles, Need::Preview),
    ("iam:ListAttachedRolePolicies", Target::Roles, Need::Preview),
    ("iam:CreateRole", Target::Roles, Need::Deploy),
    // CreateRole with tags also needs TagRole; the ownership tag is always set.
    ("iam:TagRole", Target::Roles, Need::Deploy),
    ("iam:UntagRole", Target::Roles, Need::Deploy),
    ("iam:UpdateAssumeRolePolicy", Target::Roles, Need::Deploy),
    ("iam:UpdateRole", Target::Roles, Need::Deploy),
    (
        "iam:PutRolePermissionsBoundary",
        Target::Roles,
        Need::Deploy,
    ),
    (
        "iam:DeleteRolePermissionsBoundary",
        Target::Roles,
        Need::Deploy,
    ),
    ("iam:PutRolePolicy", Target::Roles, Need::Deploy),
    ("iam:DeleteRolePolicy", Target::Roles, Need::Deploy),
    ("iam:AttachRolePolicy", Target::Roles, Need::Deploy),
    ("iam:DetachRolePolicy", Target::Roles, Need::Deploy),
    ("iam:DeleteRole", Target::Roles, Need::Deploy),
    ("iam:PassRole", Target::PassRole, Need::Deploy),
    ("iam:GetPolicy", Target::ManagedPolicies, Need::Doctor),
    (
        "iam:GetPolicyVersion",
        Target::ManagedPolicies,
        Need::Doctor,
    ),
    // The account's quotas: managed policies per role, read before attaching
    // any; the trust policy size the doctor measures against.
    (
        "iam:GetAccountSummary",
        Target::Account,
        Need::DeployAndDoctor,
    ),
    // A preview reads the cluster of an EKS connector when it can.
    ("eks:DescribeCluster", Target::Cluster, Need::Preview),
    (
        "eks:ListPodIdentityAssociations",
        Target::Cluster,
        Need::Preview,
    ),
    (
        "eks:CreatePodIdentityAssociation",
        Target::Cluster,
        Need::Deploy,
    ),
    ("eks:CreateAccessEntry", Target::Cluster, Need::Deploy),
    (
        "eks:DescribePodIdentityAssociation",
        Target::PodIdentityAssociations,
        Need::Preview,
    ),
    (
        "eks:UpdatePodIdentityAssociation",
        Target::PodIdentityAssociations,
        Need::Deploy,
    ),
    (
        "eks:DeletePodIdentityAssociation",
        Target::PodIdentityAssociations,
        Need::Deploy,
    ),
    (
        "eks:DescribeAccessEntry",
        Target::AccessEntries,
        Need::Preview,
    ),
    (
        "eks:ListAssociatedAccessPolicies",
        Target::AccessEntries,
        Need::Preview,
    ),
    (
        "eks:AssociateAccessPolicy",
        Target::AccessEntries,
        Need::Deploy,
    ),
    (
        "eks:DisassociateAccessPolicy",
        Target::AccessEntries,
        Need::Deploy,
    ),
    ("eks:DeleteAccessEntry", Target::AccessEntries, Need::Deploy),
];

/// Role actions IAM authorises with the role's permissions boundary in the
/// request (`iam:PermissionsBoundary`, Service Authorization Reference):
/// conditioned on it, they reach only roles held to the boundary.
const BOUNDARY_KEYED: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:DeleteRole",
];
const ATTACH: &str = "iam:AttachRolePolicy";
const REMOVE_BOUNDARY: &str = "iam:DeleteRolePermissionsBoundary";

/// What a deployer held to a boundary (`--permissions-boundary`) is refused
/// beyond the plain policy, for an action IAM denied it: said in the denial,
/// so the remedy is not to drop the boundary.
pub fn within_boundary_hint(action: &str) -> Option<&'static str> {
    match action {
        ATTACH => Some("held to a permissions boundary (--permissions-boundary), it may attach only the policies listed with --managed-policy-arn, and only to roles held to that boundary"),
        REMOVE_BOUNDARY => Some("held to a permissions boundary (--permissions-boundary), it may never remove it"),
        a if BOUNDARY_KEYED.contains(&a) => Some("held to a permissions boundary (--permissions-boundary), it may write only roles held to that boundary: set it as the provider's permissionsBoundary"),
        _ => None,
    }
}

fn in_mode(need: Need, mode: Mode) -> bool {
    match need {
        Need::Preview => true,
        Need::Deploy => mode == Mode::Deploy,
        Need::Doctor => mode == Mode::Doctor,
        Need::DeployAndDoctor => mode != Mode::Preview,
    }
}

/// The IAM action of an SDK operation (`PutRolePolicy` → `iam:PutRolePolicy`)
/// and the least mode whose policy holds it.
pub fn action_for_operation(operation: &str) -> Option<(&'static str, Mode)> {
    ACTIONS
        .iter()
        .find(|(action, _, _)| {
            action
                .split_once(':')
                .is_some_and(|(_, verb)| verb == operation)
        })
        .map(|(action, _, need)| {
            let mode = match need {
                Need::Preview => Mode::Preview,
                Need::Deploy => Mode::Deploy,
                Need::Doctor => Mode::Doctor,
                Need::DeployAndDoctor => Mode::Deploy,
            };
            (*action, mode)
        })
}

/// Whether a deployment held to a boundary may call `action`: never remove
/// the boundary, attach only the listed managed policies.
fn allowed_within(action: &str, scope: &Scope) -> bool {
    match (&scope.permissions_boundary, action) {
        (None, _) => true,
        (Some(_), REMOVE_BOUNDARY) => false,
        (Some(_), ATTACH) => !scope.attachable.is_empty(),
        (Some(_), _) => true,
    }
}

/// The actions a mode allows, sorted.
pub fn actions(mode: Mode, scope: &Scope) -> Vec<&'static str> {
    let mut names: Vec<&str> = ACTIONS
        .iter()
        .filter(|(a, _, need)| in_mode(*need, mode) && allowed_within(a, scope))
        .map(|(a, _, _)| *a)
        .collect();
    names.sort_unstable();
    names
}

impl Scope {
    /// The roles the provider manages: its names under its path, and under
    /// the connectors' path when they have one of their own.
    pub fn roles(&self) -> Json {
        let under = |path: &str| {
            format!(
                "arn:{}:iam::{}:role{path}{}*",
                self.partition, self.account_id, self.role_name_prefix
            )
        };
        match &self.connector_path {
            Some(c) if *c != self.path => json!([under(&self.path), under(c)]),
            _ => json!(under(&self.path)),
        }
    }
}

fn statement(target: Target, scope: &Scope, actions: Vec<&str>) -> Json {
    let Scope {
        partition: p,
        account_id: a,
        region: r,
        cluster: c,
        ..
    } = scope;
    let roles = scope.roles();
    let (sid, resource, condition) = match target {
        Target::Roles => ("XpanderRoles", json!(roles), None),
        Target::PassRole => (
            "PassBaseRoleToPodIdentity",
            json!(roles),
            Some(json!({"StringEquals": {"iam:PassedToService": "pods.eks.amazonaws.com"}})),
        ),
        // Any account: AWS managed policies live in the account named `aws`.
        Target::ManagedPolicies => (
            "ReadAttachedManagedPolicies",
            json!(format!("arn:{p}:iam::*:policy/*")),
            None,
        ),
        Target::Account => ("ReadAccountQuotas", json!("*"), None),
        Target::Cluster => (
            "XpanderClusters",
            json!(format!("arn:{p}:eks:{r}:{a}:cluster/{c}")),
            None,
        ),
        Target::PodIdentityAssociations => (
            "XpanderPodIdentityAssociations",
            json!(format!("arn:{p}:eks:{r}:{a}:podidentityassociation/{c}/*")),
            None,
        ),
        Target::AccessEntries => (
            "XpanderAccessEntries",
            json!(format!("arn:{p}:eks:{r}:{a}:access-entry/{c}/*")),
            None,
        ),
    };
    let mut s = json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource});
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    s
}

/// The identity policy for `mode`, one statement per kind of resource.
/// Held to a permissions boundary, the role writes IAM conditions on it are
/// split out: allowed only for roles held to the boundary, attachments only
/// of the listed policies, and removing the boundary denied.
pub fn policy(mode: Mode, scope: &Scope) -> Json {
    let boundary = scope.permissions_boundary.as_deref();
    let targets: BTreeSet<Target> = ACTIONS.iter().map(|(_, t, _)| *t).collect();
    let mut statements: Vec<Json> = Vec::new();
    for target in targets {
        let actions: Vec<&str> = ACTIONS
            .iter()
            .filter(|(a, t, need)| *t == target && in_mode(*need, mode) && allowed_within(a, scope))
            .map(|(a, _, _)| *a)
            .collect();
        let (keyed, free): (Vec<&str>, Vec<&str>) = match (boundary, target) {
            (Some(_), Target::Roles) => actions.iter().partition(|a| BOUNDARY_KEYED.contains(a)),
            _ => (Vec::new(), actions),
        };
        if !free.is_empty() {
            statements.push(statement(target, scope, free));
        }
        if let (Some(b), false) = (boundary, keyed.is_empty()) {
            statements.extend(within_boundary(scope, b, keyed));
        }
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The role writes of a deployer held to `boundary`.
fn within_boundary(scope: &Scope, boundary: &str, actions: Vec<&str>) -> Vec<Json> {
    let roles = scope.roles();
    // The Service Authorization Reference types the key ARN: an ARN operator
    // matches the exact ARN as StringEquals would, and passes the linter.
    let held = json!({"ArnEquals": {"iam:PermissionsBoundary": boundary}});
    let (attach, writes): (Vec<&str>, Vec<&str>) = actions.into_iter().partition(|a| *a == ATTACH);
    let mut out = vec![json!({
        "Sid": "XpanderRolesWithinBoundary",
        "Effect": "Allow",
        "Action": writes,
        "Resource": roles,
        "Condition": held,
    })];
    if !attach.is_empty() {
        let mut condition = held.clone();
        condition["ArnEquals"]["iam:PolicyARN"] = json!(scope.attachable);
        out.push(json!({
            "Sid": "AttachListedPoliciesWithinBoundary",
            "Effect": "Allow",
            "Action": attach,
            "Resource": roles,
            "Condition": condition,
        }));
    }
    out.push(json!({
        "Sid": "KeepTheBoundary",
        "Effect": "Deny",
        "Action": REMOVE_BOUNDARY,
        "Resource": "*",
    }));
    out
}

/// Rules for the scope a user gives, by flag/argument name.
pub fn check_scope(scope: &Scope) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if !matches!(scope.partition.as_str(), "aws" | "aws-cn" | "aws-us-gov") {
        problems.push((
            "partition",
            format!(
                "{:?} is not an AWS partition (aws, aws-cn, aws-us-gov)",
                scope.partition
            ),
        ));
    }
    if scope.account_id != "*" && !crate::iam::arn::is_account_id(&scope.account_id) {
        problems.push((
            "accountId",
            format!("{:?} is not a 12-digit account id", scope.account_id),
        ));
    }
    if scope.region != "*" && !crate::iam::limits::is_region_name(&scope.region) {
        problems.push((
            "region",
            format!("{:?} is not an AWS region name", scope.region),
        ));
    }
    if let Err(r) = crate::iam::limits::check_path(&scope.path) {
        problems.push(("path", r));
    }
    if let Some(Err(r)) = scope
        .connector_path
        .as_deref()
        .map(crate::iam::limits::check_path)
    {
        problems.push(("connectorPath", r));
    }
    let prefix_ok = scope
        .role_name_prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !prefix_ok {
        problems.push((
            "roleNamePrefix",
            format!(
                "{:?} may contain only letters, digits and _+=,.@-",
                scope.role_name_prefix
            ),
        ));
    }
    if scope.cluster != "*" {
        if let Err(r) = crate::iam::limits::check_cluster_name(&scope.cluster) {
            problems.push(("clusterName", r));
        }
    }
    if let Some(b) = &scope.permissions_boundary {
        if !crate::iam::arn::is_policy_arn(b) {
            problems.push((
                "permissionsBoundary",
                format!("{b:?} is not a managed policy ARN"),
            ));
        }
    }
    for arn in &scope.attachable {
        if !crate::iam::arn::is_policy_arn(arn) {
            problems.push((
                "managedPolicyArns",
                format!("{arn:?} is not a managed policy ARN"),
            ));
        }
    }
    if scope.permissions_boundary.is_none() && !scope.attachable.is_empty() {
        problems.push(("managedPolicyArns", "managedPolicyArns limits what a deployer held to a permissions boundary may attach: give permissionsBoundary too".into()));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::policy::{check_grammar, statements, string_list, DocumentKind};

    #[test]
    fn preview_and_doctor_hold_reads_only() {
        for mode in [Mode::Preview, Mode::Doctor] {
            for action in actions(mode, &Scope::default()) {
                let verb = action.split(':').nth(1).unwrap();
                assert!(
                    verb.starts_with("Get")
                        || verb.starts_with("List")
                        || verb.starts_with("Describe"),
                    "{action}"
                );
            }
        }
        let deploy: BTreeSet<_> = actions(Mode::Deploy, &Scope::default())
            .into_iter()
            .collect();
        assert!(actions(Mode::Preview, &Scope::default())
            .iter()
            .all(|a| deploy.contains(a)));
        let doctor: BTreeSet<_> = actions(Mode::Doctor, &Scope::default())
            .into_iter()
            .collect();
        assert!(actions(Mode::Preview, &Scope::default())
            .iter()
            .all(|a| doctor.contains(a)));
        assert!(
            doctor.contains("iam:GetPolicyVersion") && !deploy.contains("iam:GetPolicyVersion")
        );
    }

    #[test]
    fn documents_are_valid_and_scoped() {
        let scope = Scope {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            cluster: "prod".into(),
            ..Scope::default()
        };
        for mode in [Mode::Preview, Mode::Deploy, Mode::Doctor] {
            let doc = policy(mode, &scope);
            check_grammar(&doc, DocumentKind::Identity).unwrap();
            let mut seen = BTreeSet::new();
            for s in statements(&doc) {
                let resources = string_list(s.get("Resource"));
                let acts = string_list(s.get("Action"));
                if resources == ["*"] {
                    assert_eq!(acts, ["iam:GetAccountSummary"]);
                    assert_ne!(mode, Mode::Preview);
                }
                seen.extend(acts);
            }
            assert_eq!(
                seen.into_iter().collect::<Vec<_>>(),
                actions(mode, &Scope::default())
            );
        }
        let text = policy(Mode::Deploy, &scope).to_string();
        assert!(text.contains("arn:aws:iam::123456789012:role/xpander-*"));
        assert!(text.contains("arn:aws:eks:us-east-1:123456789012:cluster/prod"));
        assert!(text.contains("pods.eks.amazonaws.com"));
    }

    #[test]
    fn the_table_covers_every_call_the_provider_makes() {
        let source = include_str!("../cloud/sdk.rs");
        let operations: BTreeSet<&str> = source
            .split("from_sdk(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(operations.len() > 30, "{operations:?}");
        for op in operations {
            // sts:GetCallerIdentity needs no permission at all.
            if op != "GetCallerIdentity" {
                assert!(
                    action_for_operation(op).is_some(),
                    "{op} is missing from ACTIONS"
                );
            }
        }
    }

    #[test]
    fn every_sdk_operation_has_an_action() {
        assert_eq!(
            action_for_operation("PutRolePolicy"),
            Some(("iam:PutRolePolicy", Mode::Deploy))
        );
        assert_eq!(
            action_for_operation("DescribeAccessEntry"),
            Some(("eks:DescribeAccessEntry", Mode::Preview))
        );
        assert_eq!(
            action_for_operation("GetPolicy"),
            Some(("iam:GetPolicy", Mode::Doctor))
        );
        assert_eq!(action_for_operation("Nope"), None);
    }

    #[test]
    fn a_path_and_prefix_scope_the_roles() {
        let scope = Scope {
            path: "/xpander/".into(),
            role_name_prefix: "team-a-".into(),
            ..Scope::default()
        };
        assert!(policy(Mode::Deploy, &scope)
            .to_string()
            .contains("arn:aws:iam::*:role/xpander/team-a-*"));
        assert!(check_scope(&scope).is_empty());
        let bad = Scope {
            role_name_prefix: "a b".into(),
            account_id: "12".into(),
            ..Scope::default()
        };
        let names: Vec<_> = check_scope(&bad).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["accountId", "roleNamePrefix"]);
    }

    #[test]
    fn a_deployer_held_to_a_boundary_writes_only_roles_held_to_it() {
        let boundary = "arn:aws:iam::123456789012:policy/xpander-boundary";
        let scope = Scope {
            account_id: "123456789012".into(),
            permissions_boundary: Some(boundary.into()),
            attachable: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            ..Scope::default()
        };
        let doc = policy(Mode::Deploy, &scope);
        check_grammar(&doc, DocumentKind::Identity).unwrap();
        let by_sid = |sid: &str| {
            statements(&doc)
                .into_iter()
                .find(|s| s["Sid"] == sid)
                .unwrap_or_else(|| panic!("{sid}"))
                .clone()
        };
        let within = by_sid("XpanderRolesWithinBoundary");
        assert_eq!(
            within["Condition"]["ArnEquals"]["iam:PermissionsBoundary"],
            boundary
        );
        let within_actions = string_list(within.get("Action"));
        assert!(within_actions.contains(&"iam:CreateRole".to_string()));
        assert!(within_actions.contains(&"iam:PutRolePermissionsBoundary".to_string()));
        assert!(!within_actions.contains(&REMOVE_BOUNDARY.to_string()));
        let free = string_list(by_sid("XpanderRoles").get("Action"));
        assert!(
            free.iter().all(|a| !BOUNDARY_KEYED.contains(&a.as_str())),
            "{free:?}"
        );
        let attach = by_sid("AttachListedPoliciesWithinBoundary");
        assert_eq!(
            attach["Condition"]["ArnEquals"],
            json!({"iam:PermissionsBoundary": boundary, "iam:PolicyARN": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]})
        );
        assert_eq!(by_sid("KeepTheBoundary")["Effect"], "Deny");
        assert!(!actions(Mode::Deploy, &scope).contains(&REMOVE_BOUNDARY));
        let nothing_to_attach = Scope {
            attachable: vec![],
            ..scope
        };
        assert!(!actions(Mode::Deploy, &nothing_to_attach).contains(&ATTACH));
        assert!(!policy(Mode::Deploy, &nothing_to_attach)
            .to_string()
            .contains(ATTACH));
    }
}
