//! Turning operation failures into the statuses the engine understands:
//! clean failures get precise codes (never INTERNAL), a half-finished
//! resource gets `ErrorResourceInitFailed`, missing config gets
//! `ConfigureErrorMissingKeys`.

use prost::Message;

use xpander::cloud::error::{CloudError, ErrorClass};
use xpander::context::OpError;
use xpander::model::value::PropertyMap;

use super::values::encode_struct;
use crate::proto::google_rpc;
use crate::proto::pulumirpc::{
    configure_error_missing_keys::MissingKey, ConfigureErrorMissingKeys, ErrorResourceInitFailed,
};

fn with_detail(
    code: tonic::Code,
    message: String,
    type_name: &str,
    value: Vec<u8>,
) -> tonic::Status {
    let status = google_rpc::Status {
        code: code as i32,
        message: message.clone(),
        details: vec![prost_types::Any {
            type_url: format!("type.googleapis.com/{type_name}"),
            value,
        }],
    };
    tonic::Status::with_details(code, message, status.encode_to_vec().into())
}

pub fn init_failed(id: &str, properties: &PropertyMap, reason: &str) -> tonic::Status {
    let detail = ErrorResourceInitFailed {
        id: id.to_string(),
        properties: Some(encode_struct(properties)),
        reasons: vec![reason.to_string()],
        inputs: None,
        refresh_before_update: false,
    };
    with_detail(
        tonic::Code::Unknown,
        reason.to_string(),
        "pulumirpc.ErrorResourceInitFailed",
        detail.encode_to_vec(),
    )
}

pub fn missing_keys(keys: &[(&str, &str)]) -> tonic::Status {
    let detail = ConfigureErrorMissingKeys {
        missing_keys: keys
            .iter()
            .map(|(n, d)| MissingKey {
                name: n.to_string(),
                description: d.to_string(),
            })
            .collect(),
    };
    let names: Vec<&str> = keys.iter().map(|(n, _)| *n).collect();
    with_detail(
        tonic::Code::InvalidArgument,
        format!("missing required configuration keys: {}", names.join(", ")),
        "pulumirpc.ConfigureErrorMissingKeys",
        detail.encode_to_vec(),
    )
}

pub fn op_status(resource: &str, op: &str, e: OpError) -> tonic::Status {
    match e {
        OpError::Invalid(msg) => tonic::Status::invalid_argument(format!("{resource}: {msg}")),
        OpError::Cloud(err) => {
            tonic::Status::new(grpc_code(&err), format!("{op} {resource}: {err}"))
        }
        OpError::Partial {
            id,
            properties,
            reason,
        } => init_failed(&id, &properties, &format!("{op} {resource}: {reason}")),
    }
}

/// gRPC code for a failed AWS call. Never INTERNAL: these are clean failures.
pub fn grpc_code(e: &CloudError) -> tonic::Code {
    if e.code == "Cancelled" {
        return tonic::Code::Cancelled;
    }
    match e.class() {
        ErrorClass::NotFound => tonic::Code::NotFound,
        ErrorClass::AlreadyExists => tonic::Code::AlreadyExists,
        ErrorClass::AccessDenied => tonic::Code::PermissionDenied,
        ErrorClass::Credentials => tonic::Code::Unauthenticated,
        ErrorClass::Throttled | ErrorClass::Transient => tonic::Code::Unavailable,
        ErrorClass::PrincipalNotVisible => tonic::Code::DeadlineExceeded,
        ErrorClass::LimitExceeded => tonic::Code::ResourceExhausted,
        ErrorClass::InvalidInput => tonic::Code::InvalidArgument,
        ErrorClass::DeleteConflict | ErrorClass::ConcurrentModification | ErrorClass::Other => {
            tonic::Code::FailedPrecondition
        }
    }
}
