import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
import * as outputs from "./types/output";
/**
 * An xpander connector role: one per data source, with the seed's four-statement trust policy (PodIdentity, CrossAccountWithExternalId, SelfAssume, AllowFromBaseRole), its own least-privilege permissions, the self-assume policy, and a grant on the base role.
 */
export declare class XpanderConnectorRole extends pulumi.CustomResource {
    /**
     * Get an existing XpanderConnectorRole resource's state with the given name and ID (the IAM role name).
     *
     * @param name The _unique_ name of the resulting resource.
     * @param id The _unique_ provider ID of the resource to lookup.
     * @param opts Optional settings to control the behavior of the CustomResource.
     */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): XpanderConnectorRole;
    /**
     * Returns true if the given object is an instance of XpanderConnectorRole.  This is designed to work even
     * when multiple copies of the Pulumi SDK have been loaded into the same process.
     */
    static isInstance(obj: any): obj is XpanderConnectorRole;
    /**
     * ARN of the EKS access entry (EKS connectors).
     */
    readonly accessEntryArn: pulumi.Output<string | undefined>;
    /**
     * Account that owns the role.
     */
    readonly accountId: pulumi.Output<string>;
    /**
     * Accept `*` and `?` in resource identifiers (tables, work groups, buckets, prefixes, cluster and database names, model and secret ARNs), which widen the grant; each one is still reported as a warning.
     */
    readonly allowWildcards: pulumi.Output<boolean | undefined>;
    /**
     * ARN of the role: the value to paste in the xpander UI.
     */
    readonly arn: pulumi.Output<string>;
    /**
     * Athena permissions scoped to work groups (`AthenaAccess`).
     */
    readonly athena: pulumi.Output<outputs.Athena | undefined>;
    /**
     * ARN of the xpander base role. Adds the `AllowFromBaseRole` trust statement and (unless `grantBaseRole` is false) grants the base role `sts:AssumeRole` + `sts:TagSession` on this role.
     */
    readonly baseRoleArn: pulumi.Output<string | undefined>;
    /**
     * The base role's `roleId` output. When it changes (the base role was replaced), this connector's trust and grant are rewritten in the same update.
     */
    readonly baseRoleId: pulumi.Output<string | undefined>;
    /**
     * Bedrock model invocation for the xpander AI Gateway (`BedrockAccess`), scoped to the listed models and inference profiles.
     */
    readonly bedrock: pulumi.Output<outputs.Bedrock | undefined>;
    /**
     * Role description.
     */
    readonly description: pulumi.Output<string | undefined>;
    /**
     * DynamoDB permissions scoped to tables (`DynamoDBAccess`).
     */
    readonly dynamodb: pulumi.Output<outputs.DynamoDb | undefined>;
    /**
     * EKS permissions: the seed's `EKSAccess` policy plus an access entry and access policy on the cluster.
     */
    readonly eks: pulumi.Output<outputs.Eks | undefined>;
    /**
     * The xpander organization id. Adds `CrossAccountWithExternalId` (the only statement with an ExternalId condition). Secret.
     */
    readonly externalId: pulumi.Output<string | undefined>;
    /**
     * Write this connector's grant (`xpander-assume-<roleName>`) on the base role.
     */
    readonly grantBaseRole: pulumi.Output<boolean | undefined>;
    /**
     * Name of this connector's inline policy on the base role.
     */
    readonly grantPolicyName: pulumi.Output<string | undefined>;
    /**
     * Managed policies to attach (exclusively: others are detached).
     */
    readonly managedPolicyArns: pulumi.Output<string[] | undefined>;
    /**
     * Maximum session duration in seconds (3600–43200). Sessions chained from the base role are capped at 1 hour by AWS regardless.
     */
    readonly maxSessionDuration: pulumi.Output<number | undefined>;
    /**
     * IAM path of the role. Changing it replaces the role.
     */
    readonly path: pulumi.Output<string | undefined>;
    /**
     * ARN of a managed policy used as permissions boundary.
     */
    readonly permissionsBoundary: pulumi.Output<string | undefined>;
    /**
     * Keep the seed's `PodIdentity` fallback statement.
     */
    readonly podIdentityTrust: pulumi.Output<boolean | undefined>;
    /**
     * Every inline policy of the role, by name, as written.
     */
    readonly policies: pulumi.Output<{
        [key: string]: any;
    }>;
    /**
     * Redshift permissions: the seed's `RedshiftCredentials` and `RedshiftDataAPI` policies.
     */
    readonly redshift: pulumi.Output<outputs.Redshift | undefined>;
    /**
     * Unique id (AROA…) of the role.
     */
    readonly roleId: pulumi.Output<string>;
    /**
     * IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.
     */
    readonly roleName: pulumi.Output<string | undefined>;
    /**
     * S3 permissions scoped to buckets and prefixes (`S3Access`).
     */
    readonly s3: pulumi.Output<outputs.S3 | undefined>;
    /**
     * Secrets Manager permissions: read the listed secrets (`SecretsManagerAccess`), and decrypt them with their KMS key only through Secrets Manager.
     */
    readonly secretsManager: pulumi.Output<outputs.SecretsManager | undefined>;
    /**
     * Tags for the role, merged over the provider's `defaultTags`. `ManagedBy=pulumi-xpander` is added unless set.
     */
    readonly tags: pulumi.Output<{
        [key: string]: string;
    } | undefined>;
    /**
     * All tags on the role, including provider defaults.
     */
    readonly tagsAll: pulumi.Output<{
        [key: string]: string;
    }>;
    /**
     * The trust policy as written. Always secret: it carries the ExternalId when one is set.
     */
    readonly trustPolicy: pulumi.Output<any>;
    /**
     * Account trusted by `CrossAccountWithExternalId`; defaults to the deploying account, as in the seed's template.
     */
    readonly trustedAccountId: pulumi.Output<string | undefined>;
    /**
     * Create a XpanderConnectorRole resource with the given unique name, arguments, and options.
     *
     * @param name The _unique_ name of the resource.
     * @param args The arguments to use to populate this resource's properties.
     * @param opts A bag of options that control this resource's behavior.
     */
    constructor(name: string, args?: XpanderConnectorRoleArgs, opts?: pulumi.CustomResourceOptions);
}
/**
 * The set of arguments for constructing a XpanderConnectorRole resource.
 */
export interface XpanderConnectorRoleArgs {
    /**
     * Accept `*` and `?` in resource identifiers (tables, work groups, buckets, prefixes, cluster and database names, model and secret ARNs), which widen the grant; each one is still reported as a warning.
     */
    allowWildcards?: pulumi.Input<boolean>;
    /**
     * Athena permissions scoped to work groups (`AthenaAccess`).
     */
    athena?: pulumi.Input<inputs.AthenaArgs>;
    /**
     * ARN of the xpander base role. Adds the `AllowFromBaseRole` trust statement and (unless `grantBaseRole` is false) grants the base role `sts:AssumeRole` + `sts:TagSession` on this role.
     */
    baseRoleArn?: pulumi.Input<string>;
    /**
     * The base role's `roleId` output. When it changes (the base role was replaced), this connector's trust and grant are rewritten in the same update.
     */
    baseRoleId?: pulumi.Input<string>;
    /**
     * Bedrock model invocation for the xpander AI Gateway (`BedrockAccess`), scoped to the listed models and inference profiles.
     */
    bedrock?: pulumi.Input<inputs.BedrockArgs>;
    /**
     * Role description.
     */
    description?: pulumi.Input<string>;
    /**
     * DynamoDB permissions scoped to tables (`DynamoDBAccess`).
     */
    dynamodb?: pulumi.Input<inputs.DynamoDbArgs>;
    /**
     * EKS permissions: the seed's `EKSAccess` policy plus an access entry and access policy on the cluster.
     */
    eks?: pulumi.Input<inputs.EksArgs>;
    /**
     * The xpander organization id. Adds `CrossAccountWithExternalId` (the only statement with an ExternalId condition). Secret.
     */
    externalId?: pulumi.Input<string>;
    /**
     * Write this connector's grant (`xpander-assume-<roleName>`) on the base role.
     */
    grantBaseRole?: pulumi.Input<boolean>;
    /**
     * Managed policies to attach (exclusively: others are detached).
     */
    managedPolicyArns?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Maximum session duration in seconds (3600–43200). Sessions chained from the base role are capped at 1 hour by AWS regardless.
     */
    maxSessionDuration?: pulumi.Input<number>;
    /**
     * IAM path of the role. Changing it replaces the role.
     */
    path?: pulumi.Input<string>;
    /**
     * ARN of a managed policy used as permissions boundary.
     */
    permissionsBoundary?: pulumi.Input<string>;
    /**
     * Keep the seed's `PodIdentity` fallback statement.
     */
    podIdentityTrust?: pulumi.Input<boolean>;
    /**
     * Additional inline policies by name: JSON objects or JSON strings.
     */
    policies?: pulumi.Input<{
        [key: string]: any;
    }>;
    /**
     * Redshift permissions: the seed's `RedshiftCredentials` and `RedshiftDataAPI` policies.
     */
    redshift?: pulumi.Input<inputs.RedshiftArgs>;
    /**
     * IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.
     */
    roleName?: pulumi.Input<string>;
    /**
     * S3 permissions scoped to buckets and prefixes (`S3Access`).
     */
    s3?: pulumi.Input<inputs.S3Args>;
    /**
     * Secrets Manager permissions: read the listed secrets (`SecretsManagerAccess`), and decrypt them with their KMS key only through Secrets Manager.
     */
    secretsManager?: pulumi.Input<inputs.SecretsManagerArgs>;
    /**
     * Tags for the role, merged over the provider's `defaultTags`. `ManagedBy=pulumi-xpander` is added unless set.
     */
    tags?: pulumi.Input<{
        [key: string]: pulumi.Input<string>;
    }>;
    /**
     * Account trusted by `CrossAccountWithExternalId`; defaults to the deploying account, as in the seed's template.
     */
    trustedAccountId?: pulumi.Input<string>;
}
