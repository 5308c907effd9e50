//! `xpander:index:diagnose`: the doctor's checks as a provider function, so
//! a Pulumi program or `pulumi preview` can report the seed's
//! Troubleshooting causes on roles it does not manage.

use std::sync::LazyLock;

use async_trait::async_trait;

use super::{FunctionSpec, Typed};
use crate::context::ProviderState;
use crate::doctor::{self, gather::Scope, Finding};
use crate::model::failure::Failure;
use crate::model::spec::declare;
use crate::resources::base_role::{DEFAULT_NAMESPACE, DEFAULT_SERVICE_ACCOUNT};

declare! {
    pub struct DiagnoseArgs {
        "baseRoleName" base_role_name: String => "Name of the base role, in the account this provider reaches. Give this or `baseRoleArn`.",
        "baseRoleArn" base_role_arn: String => "ARN of the base role, for connectors in another account than the base role: a base role outside this provider's account is not read (its credentials cannot), and the connectors are checked against its ARN.",
        "connectorRoleNames" connector_role_names: Vec<String> => "Names of the connector roles.",
        "clusterName" cluster_name: String => "EKS cluster of the xpander pods: enables the Pod Identity and access-entry checks.",
        "namespace" namespace: String [default_str = DEFAULT_NAMESPACE] => "Namespace of the xpander service account.",
        "serviceAccount" service_account: String [default_str = DEFAULT_SERVICE_ACCOUNT] => "The xpander service account.",
    }
}

declare! {
    pub outputs struct DiagnoseOutput {
        "findings" findings: Vec<Finding> => "What is wrong, most severe first.",
        "errorCount" error_count: i64 => "Number of error findings.",
        "warningCount" warning_count: i64 => "Number of warning findings.",
    }
}

pub static SPEC: LazyLock<FunctionSpec> = LazyLock::new(|| {
    FunctionSpec::new::<DiagnoseArgs, DiagnoseOutput>(
        "xpander:index:diagnose",
        "Read live IAM/EKS state of a base role and its connectors and report misconfigurations (the seed's Troubleshooting causes and security recommendations), each with evidence and a fix.",
        &[],
    )
});

pub struct Diagnose;

#[async_trait]
impl Typed for Diagnose {
    type Args = DiagnoseArgs;
    type Output = DiagnoseOutput;

    fn spec(&self) -> &'static FunctionSpec {
        &SPEC
    }

    async fn call(
        &self,
        provider: &ProviderState,
        a: DiagnoseArgs,
        _preview: bool,
    ) -> Result<DiagnoseOutput, Vec<Failure>> {
        let at = DiagnoseArgs::base_role_name.name();
        if a.base_role_name.is_some() == a.base_role_arn.is_some() {
            return Err(vec![Failure::new(
                at,
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
        let cloud = provider
            .cloud()
            .await
            .map_err(|e| vec![Failure::new(at, format!("cannot read AWS: {e}"))])?;
        let subject = doctor::gather::gather(cloud.api.as_ref(), &scope)
            .await
            .map_err(|e| vec![Failure::new(at, format!("reading live state failed: {e}"))])?;
        let findings = doctor::diagnose(&subject);
        let (errors, warnings) = doctor::report::counts(&findings);
        Ok(DiagnoseOutput {
            findings: Some(findings),
            error_count: Some(errors as i64),
            warning_count: Some(warnings as i64),
        })
    }
}
