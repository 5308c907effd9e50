//! `pulumirpc.ResourceProvider`: decodes requests, dispatches to the
//! resource named by the request's type, encodes answers and maps errors.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tonic::{Request, Response, Status};

use xpander::config::{self, ProviderConfig};
use xpander::context::{OpCtx, ProviderState};
use xpander::model::value::{PropertyMap, PropertyValue};
use xpander::resources::{self, Autonaming, CheckRequest, DiffKind, Resource};

use super::engine_log::EngineLog;
use super::errors::{missing_keys, op_status};
use super::values::{decode_struct, encode_struct, encode_value};
use crate::proto::pulumirpc::{self as pb, resource_provider_server::ResourceProvider};

pub struct XpanderProvider {
    state: Arc<ProviderState>,
    log: Arc<EngineLog>,
    resources: Vec<Arc<dyn Resource>>,
    functions: Vec<Box<dyn xpander::functions::Function>>,
}

impl XpanderProvider {
    pub fn new(state: Arc<ProviderState>, log: Arc<EngineLog>) -> Self {
        XpanderProvider {
            state,
            log,
            resources: resources::registry(),
            functions: xpander::functions::registry(),
        }
    }

    fn resource(&self, type_token: &str, urn: &str) -> Result<Arc<dyn Resource>, Status> {
        let token = if type_token.is_empty() {
            type_from_urn(urn)
        } else {
            type_token.to_string()
        };
        self.resources
            .iter()
            .find(|r| r.spec().token == token)
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = self.resources.iter().map(|r| r.spec().token).collect();
                Status::invalid_argument(format!(
                    "unknown resource type {token:?}; this provider manages {}",
                    known.join(" and ")
                ))
            })
    }

    /// The resource a request is for, and the resource's name (from the URN
    /// when an older engine leaves `name` empty).
    fn target(
        &self,
        type_token: &str,
        urn: &str,
        name: &str,
    ) -> Result<(Arc<dyn Resource>, String), Status> {
        let name = if name.is_empty() {
            name_from_urn(urn)
        } else {
            name.to_string()
        };
        Ok((self.resource(type_token, urn)?, name))
    }

    fn ctx<'a>(&'a self, urn: &'a str, name: &'a str, timeout: f64) -> OpCtx<'a> {
        OpCtx {
            urn,
            name,
            provider: &self.state,
            timeout: (timeout > 0.0).then(|| Duration::from_secs_f64(timeout)),
        }
    }
}

/// `urn:pulumi:<stack>::<project>::<parent$type>::<name>` → `type`.
fn type_from_urn(urn: &str) -> String {
    urn.split("::")
        .nth(2)
        .and_then(|t| t.rsplit('$').next())
        .unwrap_or_default()
        .to_string()
}

fn name_from_urn(urn: &str) -> String {
    urn.rsplit("::").next().unwrap_or_default().to_string()
}

fn decode(s: Option<&prost_types::Struct>, what: &str) -> Result<PropertyMap, Status> {
    match s {
        None => Ok(PropertyMap::new()),
        Some(s) => decode_struct(s).map_err(|e| Status::invalid_argument(format!("{what}: {e}"))),
    }
}

fn config_from_variables(vars: &std::collections::HashMap<String, String>) -> PropertyMap {
    vars.iter()
        .filter_map(|(k, v)| {
            let key = k
                .strip_prefix("xpander:config:")
                .or_else(|| k.strip_prefix("xpander:"))?;
            Some((key.to_string(), PropertyValue::String(v.clone())))
        })
        .collect()
}

type ListStream =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::ListResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ResourceProvider for XpanderProvider {
    async fn handshake(
        &self,
        req: Request<pb::ProviderHandshakeRequest>,
    ) -> Result<Response<pb::ProviderHandshakeResponse>, Status> {
        self.log.connect(&req.get_ref().engine_address);
        Ok(Response::new(pb::ProviderHandshakeResponse {
            accept_secrets: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: true,
            accepts_byte_string: false,
            accepts_outputs_in_invoke: false,
            accepts_outputs_in_call: false,
            accepts_outputs_in_check: false,
        }))
    }

    async fn parameterize(
        &self,
        _req: Request<pb::ParameterizeRequest>,
    ) -> Result<Response<pb::ParameterizeResponse>, Status> {
        Err(Status::unimplemented(
            "xpander is not a parameterized package",
        ))
    }

    async fn get_schema(
        &self,
        _req: Request<pb::GetSchemaRequest>,
    ) -> Result<Response<pb::GetSchemaResponse>, Status> {
        Ok(Response::new(pb::GetSchemaResponse {
            schema: xpander::schema::schema_json(env!("CARGO_PKG_VERSION")),
        }))
    }

    async fn check_config(
        &self,
        req: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        let req = req.into_inner();
        let news = decode(req.news.as_ref(), "news")?;
        for key in config::unknown_keys(&news) {
            self.state.warn(
                &req.urn,
                &format!("xpander: unknown configuration key {key:?} is ignored"),
            );
        }
        let failures = match ProviderConfig::parse(&news) {
            Ok(_) => Vec::new(),
            Err(f) => f
                .into_iter()
                .map(|f| pb::CheckFailure {
                    property: f.property,
                    reason: f.reason,
                })
                .collect(),
        };
        let mut inputs = req.news.unwrap_or_default();
        for (key, value) in config::defaults() {
            inputs
                .fields
                .entry(key.to_string())
                .or_insert_with(|| encode_value(&value));
        }
        Ok(Response::new(pb::CheckResponse {
            inputs: Some(inputs),
            failures,
        }))
    }

    async fn diff_config(
        &self,
        req: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        let req = req.into_inner();
        let olds = decode(req.old_inputs.as_ref().or(req.olds.as_ref()), "olds")?;
        let news = decode(req.news.as_ref(), "news")?;
        let mut keys: Vec<String> = olds
            .keys()
            .chain(news.keys())
            .filter(|k| *k != "version")
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        let changed: Vec<String> = keys
            .into_iter()
            .filter(|k| olds.get(k).map(|v| v.to_json()) != news.get(k).map(|v| v.to_json()))
            .collect();
        let detailed = changed
            .iter()
            .map(|k| {
                (
                    k.clone(),
                    pb::PropertyDiff {
                        kind: pb::property_diff::Kind::Update as i32,
                        input_diff: true,
                    },
                )
            })
            .collect();
        Ok(Response::new(pb::DiffResponse {
            replaces: vec![],
            stables: vec![],
            delete_before_replace: false,
            changes: if changed.is_empty() {
                pb::diff_response::DiffChanges::DiffNone
            } else {
                pb::diff_response::DiffChanges::DiffSome
            } as i32,
            diffs: changed,
            detailed_diff: detailed,
            has_detailed_diff: true,
        }))
    }

    async fn configure(
        &self,
        req: Request<pb::ConfigureRequest>,
    ) -> Result<Response<pb::ConfigureResponse>, Status> {
        let req = req.into_inner();
        let args = match req.args.as_ref() {
            Some(a) => decode(Some(a), "args")?,
            None => config_from_variables(&req.variables),
        };
        let cfg = ProviderConfig::parse(&args).map_err(|f| {
            let all: Vec<String> = f.iter().map(|x| x.reason.clone()).collect();
            Status::invalid_argument(format!("invalid xpander configuration: {}", all.join("; ")))
        })?;
        let region = config::resolve_region(&cfg).await;
        if region.is_none() {
            return Err(missing_keys(&[(
                "xpander:region",
                "The AWS region to deploy in (IAM is global; EKS and the ARNs of regional services need it). Or set AWS_REGION.",
            )]));
        }
        self.state.set_config(ProviderConfig { region, ..cfg });
        Ok(Response::new(pb::ConfigureResponse {
            accept_secrets: true,
            supports_preview: true,
            accept_resources: true,
            accept_outputs: false,
            supports_autonaming_configuration: true,
        }))
    }

    async fn invoke(
        &self,
        req: Request<pb::InvokeRequest>,
    ) -> Result<Response<pb::InvokeResponse>, Status> {
        let req = req.into_inner();
        let function = self
            .functions
            .iter()
            .find(|f| f.spec().token == req.tok)
            .ok_or_else(|| Status::invalid_argument(format!("unknown function {:?}", req.tok)))?;
        let args = decode(req.args.as_ref(), "args")?;
        Ok(Response::new(
            match function.invoke(&self.state, &args, req.preview).await {
                Ok(result) => pb::InvokeResponse {
                    r#return: Some(encode_struct(&result)),
                    failures: vec![],
                },
                Err(failures) => pb::InvokeResponse {
                    r#return: None,
                    failures: failures
                        .into_iter()
                        .map(|f| pb::CheckFailure {
                            property: f.property,
                            reason: f.reason,
                        })
                        .collect(),
                },
            },
        ))
    }

    async fn call(
        &self,
        _req: Request<pb::CallRequest>,
    ) -> Result<Response<pb::CallResponse>, Status> {
        Err(Status::unimplemented("xpander has no resource methods"))
    }

    async fn check(
        &self,
        req: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        let req = req.into_inner();
        let (resource, name) = self.target(&req.r#type, &req.urn, &req.name)?;
        let olds = decode(req.olds.as_ref(), "olds")?;
        let news = match req.news.as_ref().map(decode_struct).transpose() {
            Ok(n) => n.unwrap_or_default(),
            Err(e) => {
                let property = e
                    .path
                    .split(['.', '['])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                return Ok(Response::new(pb::CheckResponse {
                    inputs: req.news.clone(),
                    failures: vec![pb::CheckFailure {
                        property,
                        reason: e.to_string(),
                    }],
                }));
            }
        };
        let autonaming = match &req.autonaming {
            Some(a) => Autonaming {
                proposed_name: Some(a.proposed_name.clone()).filter(|n| !n.is_empty()),
                disabled: a.mode == pb::check_request::autonaming_options::Mode::Disable as i32,
            },
            None => Autonaming {
                proposed_name: None,
                disabled: false,
            },
        };
        let checked = resource.check(
            &CheckRequest {
                name: &name,
                olds: &olds,
                news: &news,
                random_seed: &req.random_seed,
                autonaming,
            },
            &self.state,
        );
        for w in &checked.warnings {
            self.state.warn(&req.urn, w);
        }
        Ok(Response::new(pb::CheckResponse {
            inputs: Some(encode_struct(&checked.inputs)),
            failures: checked
                .failures
                .into_iter()
                .map(resource_check_failure)
                .collect(),
        }))
    }

    async fn diff(
        &self,
        req: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        let req = req.into_inner();
        let resource = self.resource(&req.r#type, &req.urn)?;
        let olds = decode(req.olds.as_ref(), "olds")?;
        let old_inputs = decode(req.old_inputs.as_ref(), "old_inputs")?;
        let news = decode(req.news.as_ref(), "news")?;
        let result = resource.diff(&self.state, &req.urn, &olds, &old_inputs, &news);
        let spec = resource.spec();
        let mut diffs = Vec::new();
        let mut replaces = Vec::new();
        let mut detailed = std::collections::HashMap::new();
        for (path, kind, replace) in &result.entries {
            use pb::property_diff::Kind as K;
            let k = match (kind, replace) {
                (DiffKind::Add, false) => K::Add,
                (DiffKind::Add, true) => K::AddReplace,
                (DiffKind::Delete, false) => K::Delete,
                (DiffKind::Delete, true) => K::DeleteReplace,
                (DiffKind::Update, false) => K::Update,
                (DiffKind::Update, true) => K::UpdateReplace,
            };
            let top = path.split(['.', '[']).next().unwrap_or(path).to_string();
            let is_input =
                spec.prop(&top).is_some_and(|p| p.input) && !result.drifted.contains(path);
            detailed.insert(
                path.clone(),
                pb::PropertyDiff {
                    kind: k as i32,
                    input_diff: is_input,
                },
            );
            if !diffs.contains(&top) {
                diffs.push(top.clone());
            }
            if *replace && !replaces.contains(&top) {
                replaces.push(top);
            }
        }
        let changes = if diffs.is_empty() {
            pb::diff_response::DiffChanges::DiffNone
        } else {
            pb::diff_response::DiffChanges::DiffSome
        };
        Ok(Response::new(pb::DiffResponse {
            replaces,
            stables: vec![],
            delete_before_replace: result.delete_before_replace,
            changes: changes as i32,
            diffs,
            detailed_diff: detailed,
            has_detailed_diff: true,
        }))
    }

    async fn create(
        &self,
        req: Request<pb::CreateRequest>,
    ) -> Result<Response<pb::CreateResponse>, Status> {
        let req = req.into_inner();
        let (resource, name) = self.target(&req.r#type, &req.urn, &req.name)?;
        let inputs = decode(req.properties.as_ref(), "properties")?;
        let ctx = self.ctx(&req.urn, &name, req.timeout);
        let (id, outputs) = resource
            .create(&ctx, &inputs, req.preview)
            .await
            .map_err(|e| op_status(&name, "create", e))?;
        Ok(Response::new(pb::CreateResponse {
            id,
            properties: Some(encode_struct(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn read(
        &self,
        req: Request<pb::ReadRequest>,
    ) -> Result<Response<pb::ReadResponse>, Status> {
        let req = req.into_inner();
        let (resource, name) = self.target(&req.r#type, &req.urn, &req.name)?;
        if req.id.is_empty() {
            return Ok(Response::new(pb::ReadResponse::default()));
        }
        let olds = req
            .properties
            .as_ref()
            .map(|p| decode(Some(p), "properties"))
            .transpose()?;
        let old_inputs = req
            .inputs
            .as_ref()
            .map(|p| decode(Some(p), "inputs"))
            .transpose()?;
        let ctx = self.ctx(&req.urn, &name, req.timeout);
        let found = resource
            .read(&ctx, &req.id, olds.as_ref(), old_inputs.as_ref())
            .await
            .map_err(|e| op_status(&name, "read", e))?;
        Ok(Response::new(match found {
            None => pb::ReadResponse::default(),
            Some((properties, inputs)) => pb::ReadResponse {
                id: req.id.clone(),
                properties: Some(encode_struct(&properties)),
                inputs: Some(encode_struct(&inputs)),
                refresh_before_update: false,
            },
        }))
    }

    type ListStream = ListStream;

    async fn list(
        &self,
        _req: Request<pb::ListRequest>,
    ) -> Result<Response<Self::ListStream>, Status> {
        Err(Status::unimplemented("List is not supported"))
    }

    async fn update(
        &self,
        req: Request<pb::UpdateRequest>,
    ) -> Result<Response<pb::UpdateResponse>, Status> {
        let req = req.into_inner();
        let (resource, name) = self.target(&req.r#type, &req.urn, &req.name)?;
        let olds = decode(req.olds.as_ref(), "olds")?;
        let old_inputs = decode(req.old_inputs.as_ref(), "old_inputs")?;
        let news = decode(req.news.as_ref(), "news")?;
        let ctx = self.ctx(&req.urn, &name, req.timeout);
        let outputs = resource
            .update(&ctx, &req.id, &olds, &old_inputs, &news, req.preview)
            .await
            .map_err(|e| op_status(&name, "update", e))?;
        Ok(Response::new(pb::UpdateResponse {
            properties: Some(encode_struct(&outputs)),
            refresh_before_update: false,
        }))
    }

    async fn delete(&self, req: Request<pb::DeleteRequest>) -> Result<Response<()>, Status> {
        let req = req.into_inner();
        let (resource, name) = self.target(&req.r#type, &req.urn, &req.name)?;
        let olds = decode(req.properties.as_ref(), "properties")?;
        let old_inputs = decode(req.old_inputs.as_ref(), "old_inputs")?;
        let ctx = self.ctx(&req.urn, &name, req.timeout);
        resource
            .delete(&ctx, &req.id, &olds, &old_inputs)
            .await
            .map_err(|e| op_status(&name, "delete", e))?;
        Ok(Response::new(()))
    }

    async fn construct(
        &self,
        _req: Request<pb::ConstructRequest>,
    ) -> Result<Response<pb::ConstructResponse>, Status> {
        Err(Status::unimplemented("xpander has no component resources"))
    }

    async fn cancel(&self, _req: Request<()>) -> Result<Response<()>, Status> {
        self.state.cancel();
        Ok(Response::new(()))
    }

    async fn get_plugin_info(&self, _req: Request<()>) -> Result<Response<pb::PluginInfo>, Status> {
        Ok(Response::new(pb::PluginInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
        }))
    }

    async fn attach(&self, req: Request<pb::PluginAttach>) -> Result<Response<()>, Status> {
        self.log.connect(&req.get_ref().address);
        Ok(Response::new(()))
    }

    async fn get_mapping(
        &self,
        _req: Request<pb::GetMappingRequest>,
    ) -> Result<Response<pb::GetMappingResponse>, Status> {
        Ok(Response::new(pb::GetMappingResponse {
            provider: String::new(),
            data: Vec::new(),
        }))
    }

    async fn get_mappings(
        &self,
        _req: Request<pb::GetMappingsRequest>,
    ) -> Result<Response<pb::GetMappingsResponse>, Status> {
        Ok(Response::new(pb::GetMappingsResponse {
            providers: Vec::new(),
        }))
    }
}

/// The engine prints a resource's CheckFailure as "property P value V has a
/// problem", looking P up as a top-level input: a nested path (`s3.buckets`)
/// would show the value as nil. So the failure names the top-level input and
/// the reason keeps the full path.
fn resource_check_failure(f: xpander::model::failure::Failure) -> pb::CheckFailure {
    let top = f.property.split(['.', '[']).next().unwrap_or_default();
    if top == f.property {
        return pb::CheckFailure {
            property: f.property,
            reason: f.reason,
        };
    }
    let reason = if f.reason.contains(&f.property) {
        f.reason
    } else {
        format!("{}: {}", f.property, f.reason)
    };
    pb::CheckFailure {
        property: top.to_string(),
        reason,
    }
}
