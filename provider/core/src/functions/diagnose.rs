//! `xpander:index:diagnose`: the doctor's checks as a provider function, so
//! a Pulumi program or `pulumi preview` can report the seed's
//! Troubleshooting causes on roles it does not manage.

use async_trait::async_trait;
use serde::Deserialize;

use super::{Function, FunctionSpec};
use crate::context::ProviderState;
use crate::doctor::{self, gather::Scope};
use crate::model::failure::Failure;
use crate::model::spec::{Prop, Ty};
use crate::model::value::{PropertyMap, PropertyValue};
use crate::resources::typed_args;

pub static SPEC: FunctionSpec = FunctionSpec {
    token: "xpander:index:diagnose",
    description: "Read live IAM/EKS state of a base role and its connectors and report misconfigurations (the seed's Troubleshooting causes and security recommendations), each with evidence and a fix.",
    inputs_from: None,
    also_required: &[],
    inputs: &[
        Prop::input("baseRoleName", Ty::String, "Name of the base role, in the account this provider reaches. Give this or `baseRoleArn`."),
        Prop::input("baseRoleArn", Ty::String, "ARN of the base role, for connectors in another account than the base role: a base role outside this provider's account is not read (its credentials cannot), and the connectors are checked against its ARN."),
        Prop::input("connectorRoleNames", Ty::StringList, "Names of the connector roles."),
        Prop::input("clusterName", Ty::String, "EKS cluster of the xpander pods: enables the Pod Identity and access-entry checks."),
        Prop::input("namespace", Ty::String, "Namespace of the xpander service account.").default("xpander"),
        Prop::input("serviceAccount", Ty::String, "The xpander service account.").default("xpander"),
    ],
    outputs: &[
        Prop::computed("findings", Ty::ObjectList("Finding"), "What is wrong, most severe first.", &[]),
        Prop::computed("errorCount", Ty::Integer, "Number of error findings.", &[]),
        Prop::computed("warningCount", Ty::Integer, "Number of warning findings.", &[]),
    ],
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Args {
    base_role_name: Option<String>,
    base_role_arn: Option<String>,
    connector_role_names: Option<Vec<String>>,
    cluster_name: Option<String>,
    namespace: Option<String>,
    service_account: Option<String>,
}

pub struct Diagnose;

#[async_trait]
impl Function for Diagnose {
    fn spec(&self) -> &'static FunctionSpec {
        &SPEC
    }

    async fn invoke(
        &self,
        provider: &ProviderState,
        args: &PropertyMap,
        _preview: bool,
    ) -> Result<PropertyMap, Vec<Failure>> {
        let failures = SPEC.check_args(args);
        if !failures.is_empty() {
            return Err(failures);
        }
        let (a, _) = typed_args::<Args>(args).map_err(|f| vec![f])?;
        if a.base_role_name.is_some() == a.base_role_arn.is_some() {
            return Err(vec![Failure::new(
                "baseRoleName",
                "give exactly one of baseRoleName and baseRoleArn",
            )]);
        }
        let scope = Scope {
            base_role: a.base_role_name.unwrap_or_default(),
            base_role_arn: a.base_role_arn,
            connector_roles: a.connector_role_names.unwrap_or_default(),
            cluster: a.cluster_name,
            namespace: a.namespace,
            service_account: a.service_account,
        };
        let cloud = provider.cloud().await.map_err(|e| {
            vec![Failure::new(
                "baseRoleName",
                format!("cannot read AWS: {e}"),
            )]
        })?;
        let subject = doctor::gather::gather(cloud.api.as_ref(), &scope)
            .await
            .map_err(|e| {
                vec![Failure::new(
                    "baseRoleName",
                    format!("reading live state failed: {e}"),
                )]
            })?;
        let findings = doctor::diagnose(&subject);
        let (errors, warnings) = doctor::report::counts(&findings);
        let mut out = PropertyMap::new();
        out.insert(
            "findings".into(),
            PropertyValue::from_json(&serde_json::to_value(&findings).unwrap_or_default()),
        );
        out.insert("errorCount".into(), PropertyValue::Number(errors as f64));
        out.insert(
            "warningCount".into(),
            PropertyValue::Number(warnings as f64),
        );
        Ok(out)
    }
}
