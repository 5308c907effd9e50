//! AWS errors reduced to what the provider decides on: a class for retries
//! and for the gRPC code the engine sees. Messages never carry request bodies,
//! so a secret in a policy document cannot leak through an error.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    NotFound,
    AlreadyExists,
    /// IAM/EKS do not see a just-created principal yet (eventual consistency).
    PrincipalNotVisible,
    DeleteConflict,
    ConcurrentModification,
    Throttled,
    Transient,
    AccessDenied,
    LimitExceeded,
    InvalidInput,
    Credentials,
    Other,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct CloudError {
    pub operation: &'static str,
    pub code: String,
    pub message: String,
    pub status: Option<u16>,
}

impl CloudError {
    pub fn new(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        CloudError {
            operation,
            code: code.into(),
            message: message.into(),
            status: None,
        }
    }

    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        match &err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                CloudError {
                    operation,
                    code: e.code().unwrap_or("Unknown").to_string(),
                    message: e.message().unwrap_or("").to_string(),
                    status,
                }
                .explain_denied()
            }
            SdkError::DispatchFailure(d) => CloudError {
                operation,
                code: if d.is_timeout() {
                    "Timeout".into()
                } else {
                    "DispatchFailure".into()
                },
                message: describe_chain(&err),
                status,
            },
            SdkError::TimeoutError(_) => CloudError {
                operation,
                code: "Timeout".into(),
                message: describe_chain(&err),
                status,
            },
            SdkError::ResponseError(_) => CloudError {
                operation,
                code: "ResponseError".into(),
                message: describe_chain(&err),
                status,
            },
            _ => CloudError {
                operation,
                code: "ClientError".into(),
                message: describe_chain(&err),
                status,
            },
        }
    }

    /// AWS's AccessDenied names the principal, the action and the resource;
    /// say which policy of ours grants the action.
    fn explain_denied(self) -> Self {
        if self.class() != ErrorClass::AccessDenied {
            return self;
        }
        use crate::iam::deployer::{action_for_operation, within_boundary_hint, Mode};
        let hint = match action_for_operation(self.operation) {
            Some((action, mode)) => {
                let who = match mode {
                    Mode::Doctor => "the principal running the doctor",
                    Mode::Preview | Mode::Deploy => "the principal running pulumi",
                };
                let held = within_boundary_hint(action)
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                format!("{who} needs {action}: `pulumi-resource-xpander deployer-policy --mode {}` prints a policy that grants everything this provider calls{held}", mode.name())
            }
            None => format!("the caller needs permission for {}", self.operation),
        };
        CloudError {
            message: format!("{} ({hint})", self.message),
            ..self
        }
    }

    pub fn class(&self) -> ErrorClass {
        let code = self.code.as_str();
        let msg = self.message.as_str();
        match code {
            "NoSuchEntity"
            | "NoSuchEntityException"
            | "ResourceNotFoundException"
            | "NotFoundException" => ErrorClass::NotFound,
            "EntityAlreadyExists" | "EntityAlreadyExistsException" | "ResourceInUseException" => {
                ErrorClass::AlreadyExists
            }
            "MalformedPolicyDocument" | "MalformedPolicyDocumentException"
                if msg.contains("Invalid principal") =>
            {
                ErrorClass::PrincipalNotVisible
            }
            "InvalidParameterException"
                if msg.contains("Role provided in the request does not exist")
                    || msg.contains("principalArn is invalid")
                    || msg.contains("invalid principal") =>
            {
                ErrorClass::PrincipalNotVisible
            }
            "DeleteConflict" | "DeleteConflictException" => ErrorClass::DeleteConflict,
            "ConcurrentModification" | "ConcurrentModificationException" => {
                ErrorClass::ConcurrentModification
            }
            "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded" => ErrorClass::Throttled,
            "ServiceFailure"
            | "ServiceFailureException"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "ServerException"
            | "InternalFailure"
            | "Timeout"
            | "DispatchFailure"
            | "ResponseError" => ErrorClass::Transient,
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
                ErrorClass::AccessDenied
            }
            "LimitExceeded" | "LimitExceededException" => ErrorClass::LimitExceeded,
            "InvalidClientTokenId"
            | "ExpiredToken"
            | "SignatureDoesNotMatch"
            | "CredentialsError" => ErrorClass::Credentials,
            "MalformedPolicyDocument"
            | "ValidationError"
            | "InvalidInput"
            | "InvalidParameterException"
            | "InvalidRequestException"
            | "InvalidParameterValue" => ErrorClass::InvalidInput,
            _ if self.status.is_some_and(|s| s >= 500) => ErrorClass::Transient,
            _ if self.status == Some(404) => ErrorClass::NotFound,
            _ => ErrorClass::Other,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.class() == ErrorClass::NotFound
    }
}

fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut src = err.source();
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_drive_retries() {
        let e = CloudError::new(
            "UpdateAssumeRolePolicy",
            "MalformedPolicyDocument",
            "Invalid principal in policy: \"AWS\":\"arn\"",
        );
        assert_eq!(e.class(), ErrorClass::PrincipalNotVisible);
        let e = CloudError::new(
            "PutRolePolicy",
            "MalformedPolicyDocument",
            "Syntax errors in policy.",
        );
        assert_eq!(e.class(), ErrorClass::InvalidInput);
        let e = CloudError::new(
            "CreatePodIdentityAssociation",
            "InvalidParameterException",
            "Role provided in the request does not exist",
        );
        assert_eq!(e.class(), ErrorClass::PrincipalNotVisible);
        let mut e = CloudError::new("GetRole", "Weird", "");
        e.status = Some(503);
        assert_eq!(e.class(), ErrorClass::Transient);
    }

    #[test]
    fn a_denial_says_what_a_boundary_withholds() {
        let denied = |op: &'static str| {
            CloudError::new(op, "AccessDenied", "not authorized")
                .explain_denied()
                .message
        };
        assert!(denied("AttachRolePolicy")
            .contains("only the policies listed with --managed-policy-arn"));
        assert!(denied("CreateRole").contains("only roles held to that boundary"));
        assert!(!denied("TagRole").contains("boundary"));
        assert!(denied("TagRole").contains("needs iam:TagRole"));
    }
}
