//! `xpander:index:renderConnectorPolicies`: the trust policy, permission
//! policies, base-role grant and access entry an `XpanderConnectorRole`
//! with the same arguments would write — computed by the same code, with no
//! AWS call when the account is given or already known.

use async_trait::async_trait;
use serde_json::{json, Value as Json};

use super::{Function, FunctionSpec};
use crate::context::ProviderState;
use crate::iam::arn::{is_account_id, partition_for_region, AccountContext};
use crate::model::failure::Failure;
use crate::model::spec::{Prop, Ty};
use crate::model::value::{PropertyMap, PropertyValue};
use crate::resources::connector::{self, ConnectorArgs};
use crate::resources::typed_args;

pub static SPEC: FunctionSpec = FunctionSpec {
    token: "xpander:index:renderConnectorPolicies",
    description: "Render the documents an XpanderConnectorRole with these arguments would write, without writing anything. Works offline when `accountId` is given.",
    inputs_from: Some(&connector::SPEC),
    also_required: &["roleName"],
    inputs: &[
        Prop::input("accountId", Ty::String, "Account the role would live in; defaults to the provider's account."),
        Prop::input("partition", Ty::String, "AWS partition (`aws`, `aws-cn`, `aws-us-gov`); defaults to the region's."),
        Prop::input("region", Ty::String, "Region for regional ARNs; defaults to the provider's."),
    ],
    outputs: &[
        Prop::computed("roleArn", Ty::String, "ARN the role would have.", &[]),
        Prop::computed("initialTrustPolicy", Ty::Document, "Trust written by CreateRole (no self-reference yet).", &["externalId"]),
        Prop::computed("trustPolicy", Ty::Document, "The full trust policy. Secret when it holds the ExternalId.", &["externalId"]).secret(),
        Prop::computed("policies", Ty::DocumentMap, "Inline permission policies by name.", &[]),
        Prop::computed("managedPolicyArns", Ty::StringList, "Managed policies to attach.", &[]),
        Prop::computed("grant", Ty::Document, "The grant on the base role: {baseRoleName, policyName, policy}.", &[]).optional_output(),
        Prop::computed("accessEntry", Ty::Document, "The EKS access entry: {clusterName, principalArn, accessPolicyArn, accessScope}.", &[]).optional_output(),
    ],
};

const OWN_KEYS: [&str; 3] = ["accountId", "partition", "region"];

pub struct RenderConnectorPolicies;

fn string_arg(args: &PropertyMap, key: &str) -> Option<String> {
    args.get(key)
        .and_then(|v| v.to_json().as_str().map(str::to_string))
}

async fn account(
    provider: &ProviderState,
    args: &PropertyMap,
    preview: bool,
) -> Result<AccountContext, Failure> {
    let region = string_arg(args, "region").unwrap_or_else(|| provider.region());
    if let Some(id) = string_arg(args, "accountId") {
        if !is_account_id(&id) {
            return Err(Failure::new(
                "accountId",
                format!("accountId must be 12 digits, got {id:?}"),
            ));
        }
        let partition = string_arg(args, "partition")
            .unwrap_or_else(|| partition_for_region(&region).to_string());
        return Ok(AccountContext {
            partition,
            account_id: id,
            region,
        });
    }
    if let Some(a) = provider.cached_account() {
        return Ok(AccountContext { region, ..a });
    }
    if preview {
        return Err(Failure::new(
            "accountId",
            "accountId is required in a preview before the provider has resolved its account",
        ));
    }
    provider
        .cloud()
        .await
        .map(|c| AccountContext {
            region,
            ..c.account.clone()
        })
        .map_err(|e| {
            Failure::new(
                "accountId",
                format!("accountId was not given and the account could not be resolved: {e}"),
            )
        })
}

#[async_trait]
impl Function for RenderConnectorPolicies {
    fn spec(&self) -> &'static FunctionSpec {
        &SPEC
    }

    async fn invoke(
        &self,
        provider: &ProviderState,
        args: &PropertyMap,
        preview: bool,
    ) -> Result<PropertyMap, Vec<Failure>> {
        let failures = SPEC.check_args(args);
        if !failures.is_empty() {
            return Err(failures);
        }
        let resource_args: PropertyMap = args
            .iter()
            .filter(|(k, _)| !OWN_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let checked = crate::resources::run_check::<ConnectorArgs>(
            &connector::SPEC,
            &resource_args,
            |a, f, w| a.validate(f, w),
        );
        if !checked.failures.is_empty() {
            return Err(checked.failures);
        }
        let (parsed, _) = typed_args::<ConnectorArgs>(&resource_args).map_err(|f| vec![f])?;
        let ctx = account(provider, args, preview)
            .await
            .map_err(|f| vec![f])?;
        let cfg = provider.config();
        let r = parsed
            .render(&ctx, &cfg.default_tags.clone().unwrap_or_default(), "")
            .map_err(|e| vec![Failure::new("policies", e)])?;
        let secret = parsed.trust.external_id.is_some();
        let doc = |j: &Json| {
            let v = PropertyValue::from_json(j);
            if secret {
                PropertyValue::secret(v)
            } else {
                v
            }
        };
        let mut out = PropertyMap::new();
        out.insert("roleArn".into(), PropertyValue::String(r.arn.clone()));
        out.insert("initialTrustPolicy".into(), doc(&r.role.initial_trust));
        out.insert("trustPolicy".into(), doc(&r.role.trust));
        out.insert(
            "policies".into(),
            PropertyValue::from_json(&json!(r.role.inline_policies)),
        );
        out.insert(
            "managedPolicyArns".into(),
            PropertyValue::from_json(&json!(r.role.managed_policies)),
        );
        if let Some(g) = &r.grant {
            out.insert("grant".into(), PropertyValue::from_json(&json!({"baseRoleName": g.base_role, "policyName": g.name, "policy": g.document})));
        }
        if let Some(a) = &r.access {
            out.insert(
                "accessEntry".into(),
                PropertyValue::from_json(&json!({"clusterName": a.cluster, "principalArn": a.principal_arn, "accessPolicyArn": a.policy_arn, "accessScope": a.scope})),
            );
        }
        Ok(out)
    }
}
