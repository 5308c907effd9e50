//! The subcommands a person runs (the engine runs the plugin with its
//! address instead): `schema`, `doctor`, `deployer-policy`, `sources`,
//! `--version`. Each answers `--help` with its own usage; what they print is
//! computed in the library.

use std::collections::BTreeMap;
use std::io::Write;

use xpander::config::{Endpoints, ProviderConfig};
use xpander::doctor::{self, gather::Scope, report};
use xpander::functions::deployer_policy::{DeployerPolicyArgs, Document};
use xpander::iam::deployer;
use xpander::resources::base_role::{DEFAULT_NAMESPACE, DEFAULT_SERVICE_ACCOUNT};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The words `main` refuses to mistake for an engine address.
pub const COMMANDS: &[&str] = &[
    "schema",
    "doctor",
    "deployer-policy",
    "sources",
    "version",
    "--help",
];

const SCHEMA_USAGE: &str = "pulumi-resource-xpander schema
    print the package schema (schema.json)";

const DOCTOR_USAGE: &str = "pulumi-resource-xpander doctor --base-role NAME|--base-role-arn ARN [--connector NAME]... [--cluster NAME]
                               [--namespace NS] [--service-account SA] [--region R] [--profile P] [--endpoint URL] [--json]
    diagnose a live setup: the seed's Troubleshooting causes, with evidence and the fix
    exit 0: no errors (warnings may remain), 1: errors found, 2: could not run";

const DEPLOYER_USAGE: &str = "pulumi-resource-xpander deployer-policy --mode preview|deploy|doctor|boundary [--role-name-prefix P] [--path /p/] [--connector-path /c/]
                               [--partition P] [--account-id A] [--region R] [--cluster NAME]
                               [--permissions-boundary ARN [--managed-policy-arn ARN]...] [--json]
    the IAM policy whoever runs pulumi with this provider needs; with --permissions-boundary, one that can
    write only roles held to that boundary (it cannot escalate); --mode boundary prints such a boundary";

const SOURCES_USAGE: &str = "pulumi-resource-xpander sources [--json]
    the data sources a connector takes: input, schema type, policies, what the doctor checks, example inputs";

fn usage() -> String {
    format!(
        "pulumi-resource-xpander {VERSION}\n\nA Pulumi resource provider; the Pulumi engine starts it.\n\nUsage:\n  pulumi-resource-xpander [--logtostderr] [-v=N] [--tracing ENDPOINT] [ENGINE_ADDRESS]\n  {SCHEMA_USAGE}\n  {DOCTOR_USAGE}\n  {DEPLOYER_USAGE}\n  {SOURCES_USAGE}\n  pulumi-resource-xpander --version"
    )
}

fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// Runs a subcommand and returns its exit code, or `None` when the
/// arguments are the engine's (serve).
pub async fn run(args: &[String]) -> Option<i32> {
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => return None,
    };
    let usage_text = match command {
        "--version" | "version" => {
            println!("pulumi-resource-xpander {VERSION}");
            return Some(0);
        }
        "--help" | "-h" => {
            println!("{}", usage());
            return Some(0);
        }
        "schema" => SCHEMA_USAGE,
        "doctor" => DOCTOR_USAGE,
        "deployer-policy" => DEPLOYER_USAGE,
        "sources" => SOURCES_USAGE,
        _ => return None,
    };
    if wants_help(rest) {
        println!("Usage:\n  {usage_text}");
        return Some(0);
    }
    Some(match command {
        "schema" => {
            print!("{}", xpander::schema::schema_json(VERSION));
            0
        }
        "doctor" => run_doctor(rest).await,
        "deployer-policy" => deployer_policy(rest),
        _ => sources(rest),
    })
}

/// Each flag's values by the name it has in a declaration, and the switches given.
type Parsed = (BTreeMap<&'static str, Vec<String>>, Vec<String>);

/// Flags with a value each, by the name they have in a declaration.
fn flags(
    command: &str,
    args: &[String],
    names: &[(&str, &'static str)],
    switches: &[&str],
) -> Result<Parsed, i32> {
    let mut given: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut set = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if switches.contains(&flag.as_str()) {
            set.push(flag.clone());
            continue;
        }
        let Some((_, key)) = names.iter().find(|(f, _)| f == flag) else {
            eprintln!("{command}: unknown argument {flag:?} (see {command} --help)");
            return Err(2);
        };
        match it.next() {
            Some(value) => given.entry(key).or_default().push(value.clone()),
            None => {
                eprintln!("{command}: {flag} needs a value");
                return Err(2);
            }
        }
    }
    Ok((given, set))
}

/// `deployer-policy`: the document of `xpander:index:deployerPolicy`.
fn deployer_policy(args: &[String]) -> i32 {
    let names = [
        ("--mode", DeployerPolicyArgs::mode.name()),
        (
            "--role-name-prefix",
            DeployerPolicyArgs::role_name_prefix.name(),
        ),
        ("--path", DeployerPolicyArgs::path.name()),
        (
            "--connector-path",
            DeployerPolicyArgs::connector_path.name(),
        ),
        ("--partition", DeployerPolicyArgs::partition.name()),
        ("--account-id", DeployerPolicyArgs::account_id.name()),
        ("--region", DeployerPolicyArgs::region.name()),
        ("--cluster", DeployerPolicyArgs::cluster_name.name()),
        (
            "--permissions-boundary",
            DeployerPolicyArgs::permissions_boundary.name(),
        ),
        (
            "--managed-policy-arn",
            DeployerPolicyArgs::managed_policy_arns.name(),
        ),
    ];
    let (given, switches) = match flags("deployer-policy", args, &names, &["--json"]) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let lists = [DeployerPolicyArgs::managed_policy_arns.name()];
    let values: serde_json::Map<String, serde_json::Value> = given
        .into_iter()
        .filter_map(|(k, v)| {
            let value = if lists.contains(&k) {
                serde_json::json!(v)
            } else {
                serde_json::json!(v.last()?)
            };
            Some((k.to_string(), value))
        })
        .collect();
    let args: DeployerPolicyArgs =
        serde_json::from_value(serde_json::Value::Object(values)).unwrap_or_default();
    let (document, scope) = match args.parse() {
        Ok(parsed) => parsed,
        Err(failures) => {
            for f in failures {
                eprintln!("deployer-policy: {}", f.reason);
            }
            return 2;
        }
    };
    let (policy, actions) = document.render(&scope);
    let text = serde_json::to_string_pretty(&policy).expect("a policy serialises");
    // A closed pipe (`| head`) ends the output, not the process with a panic.
    let mut out = std::io::stdout().lock();
    if switches.is_empty() {
        let purpose = match document {
            Document::Deployer(deployer::Mode::Preview) => {
                "The IAM policy for read-only previews and refreshes"
            }
            Document::Deployer(deployer::Mode::Deploy) if scope.permissions_boundary.is_some() => {
                "The IAM policy for deployments that cannot escalate"
            }
            Document::Deployer(deployer::Mode::Deploy) => "The IAM policy for deployments",
            Document::Deployer(deployer::Mode::Doctor) => {
                "The IAM policy for the doctor and diagnose (reads only)"
            }
            Document::Boundary => "The permissions boundary for the roles",
        };
        let roles = match scope.roles() {
            serde_json::Value::Array(all) => all
                .iter()
                .filter_map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            one => one.as_str().unwrap_or_default().to_string(),
        };
        let _ = writeln!(
            out,
            "# {purpose} with pulumi-resource-xpander: {} actions on roles {roles}",
            actions.len(),
        );
    }
    let _ = writeln!(out, "{text}");
    0
}

/// `sources`: every data source a connector takes, as the library lists them.
fn sources(args: &[String]) -> i32 {
    let json = match flags("sources", args, &[], &["--json"]) {
        Ok((_, switches)) => !switches.is_empty(),
        Err(code) => return code,
    };
    let listing = xpander::resources::connector::sources::listing();
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&listing).unwrap_or_default()
        );
        return 0;
    }
    for source in listing.as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{:<16} {:<16} {}",
            source["key"].as_str().unwrap_or_default(),
            source["type"].as_str().unwrap_or_default(),
            source["policies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    0
}

/// `doctor`: the checks of `xpander:index:diagnose` from a shell, against
/// the standard AWS credential chain.
async fn run_doctor(args: &[String]) -> i32 {
    let names = [
        ("--base-role", "baseRole"),
        ("--base-role-arn", "baseRoleArn"),
        ("--connector", "connector"),
        ("--cluster", "cluster"),
        ("--namespace", "namespace"),
        ("--service-account", "serviceAccount"),
        ("--region", "region"),
        ("--profile", "profile"),
        ("--endpoint", "endpoint"),
    ];
    let (given, switches) = match flags("doctor", args, &names, &["--json"]) {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    let one = |k: &str| given.get(k).and_then(|v| v.last().cloned());
    let scope = Scope {
        base_role: one("baseRole").unwrap_or_default(),
        base_role_arn: one("baseRoleArn"),
        connector_roles: given.get("connector").cloned().unwrap_or_default(),
        cluster: one("cluster"),
        namespace: one("namespace"),
        service_account: one("serviceAccount"),
    };
    // A doctor answers in seconds or says it cannot reach AWS; it does not
    // sit through a deployment's retry budget.
    let cfg = ProviderConfig {
        max_retries: Some(2),
        region: one("region"),
        profile: one("profile"),
        endpoints: one("endpoint").map(|url| Endpoints {
            iam: Some(url.clone()),
            sts: Some(url.clone()),
            eks: Some(url),
        }),
        ..Default::default()
    };
    if scope.base_role.is_empty() == scope.base_role_arn.is_none() {
        eprintln!("doctor: give exactly one of --base-role and --base-role-arn");
        return 2;
    }
    let subject = match xpander::cloud::connect(&cfg).await {
        Ok(api) => doctor::gather::gather(&api, &scope).await,
        Err(e) => Err(e),
    };
    let subject = match subject {
        Ok(s) => s,
        Err(e) => {
            eprintln!("doctor: cannot read AWS: {e}");
            return 2;
        }
    };
    let findings = doctor::diagnose(&subject);
    let (errors, warnings) = report::counts(&findings);
    if !switches.is_empty() {
        let out = serde_json::json!({"findings": findings, "errorCount": errors, "warningCount": warnings});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        let target = match &scope.cluster {
            Some(c) => format!(
                ", cluster {c} ({}/{})",
                scope.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE),
                scope
                    .service_account
                    .as_deref()
                    .unwrap_or(DEFAULT_SERVICE_ACCOUNT)
            ),
            None => String::new(),
        };
        let header = format!(
            "xpander doctor: base role {}, {} connector(s){target}",
            scope.base_role_arn.as_deref().unwrap_or(&scope.base_role),
            scope.connector_roles.len()
        );
        print!("{}", report::human(&findings, &header));
    }
    i32::from(errors > 0)
}
