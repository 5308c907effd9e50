import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
/**
 * Render the documents an XpanderConnectorRole with these arguments would write, without writing anything. Works offline when `accountId` is given.
 */
export declare function renderConnectorPolicies(args: RenderConnectorPoliciesArgs, opts?: pulumi.InvokeOptions): Promise<RenderConnectorPoliciesResult>;
export interface RenderConnectorPoliciesArgs {
    /**
     * Account the role would live in; defaults to the provider's account.
     */
    accountId?: string;
    /**
     * Accept `*` and `?` in resource identifiers (tables, work groups, buckets, prefixes, cluster and database names, model and secret ARNs), which widen the grant; each one is still reported as a warning.
     */
    allowWildcards?: boolean;
    /**
     * Athena permissions scoped to work groups (`AthenaAccess`).
     */
    athena?: inputs.Athena;
    /**
     * ARN of the xpander base role. Adds the `AllowFromBaseRole` trust statement and (unless `grantBaseRole` is false) grants the base role `sts:AssumeRole` + `sts:TagSession` on this role.
     */
    baseRoleArn?: string;
    /**
     * The base role's `roleId` output. When it changes (the base role was replaced), this connector's trust and grant are rewritten in the same update.
     */
    baseRoleId?: string;
    /**
     * Bedrock model invocation for the xpander AI Gateway (`BedrockAccess`), scoped to the listed models and inference profiles.
     */
    bedrock?: inputs.Bedrock;
    /**
     * Role description.
     */
    description?: string;
    /**
     * DynamoDB permissions scoped to tables (`DynamoDBAccess`).
     */
    dynamodb?: inputs.DynamoDb;
    /**
     * EKS permissions: the seed's `EKSAccess` policy plus an access entry and access policy on the cluster.
     */
    eks?: inputs.Eks;
    /**
     * The xpander organization id. Adds `CrossAccountWithExternalId` (the only statement with an ExternalId condition). Secret.
     */
    externalId?: string;
    /**
     * Write this connector's grant (`xpander-assume-<roleName>`) on the base role.
     */
    grantBaseRole?: boolean;
    /**
     * Managed policies to attach (exclusively: others are detached).
     */
    managedPolicyArns?: string[];
    /**
     * Maximum session duration in seconds (3600–43200). Sessions chained from the base role are capped at 1 hour by AWS regardless.
     */
    maxSessionDuration?: number;
    /**
     * AWS partition (`aws`, `aws-cn`, `aws-us-gov`); defaults to the region's.
     */
    partition?: string;
    /**
     * IAM path of the role. Changing it replaces the role.
     */
    path?: string;
    /**
     * ARN of a managed policy used as permissions boundary.
     */
    permissionsBoundary?: string;
    /**
     * Keep the seed's `PodIdentity` fallback statement.
     */
    podIdentityTrust?: boolean;
    /**
     * Additional inline policies by name: JSON objects or JSON strings.
     */
    policies?: {
        [key: string]: any;
    };
    /**
     * Redshift permissions: the seed's `RedshiftCredentials` and `RedshiftDataAPI` policies.
     */
    redshift?: inputs.Redshift;
    /**
     * Region for regional ARNs; defaults to the provider's.
     */
    region?: string;
    /**
     * IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.
     */
    roleName: string;
    /**
     * S3 permissions scoped to buckets and prefixes (`S3Access`).
     */
    s3?: inputs.S3;
    /**
     * Secrets Manager permissions: read the listed secrets (`SecretsManagerAccess`), and decrypt them with their KMS key only through Secrets Manager.
     */
    secretsManager?: inputs.SecretsManager;
    /**
     * Tags for the role, merged over the provider's `defaultTags`. `ManagedBy=pulumi-xpander` is added unless set.
     */
    tags?: {
        [key: string]: string;
    };
    /**
     * Account trusted by `CrossAccountWithExternalId`; defaults to the deploying account, as in the seed's template.
     */
    trustedAccountId?: string;
}
/**
 * A collection of values returned by renderConnectorPolicies.
 */
export interface RenderConnectorPoliciesResult {
    /**
     * The EKS access entry: {clusterName, principalArn, accessPolicyArn, accessScope}.
     */
    readonly accessEntry?: any;
    /**
     * The grant on the base role: {baseRoleName, policyName, policy}.
     */
    readonly grant?: any;
    /**
     * Trust written by CreateRole (no self-reference yet).
     */
    readonly initialTrustPolicy: any;
    /**
     * Managed policies to attach.
     */
    readonly managedPolicyArns: string[];
    /**
     * Inline permission policies by name.
     */
    readonly policies: {
        [key: string]: any;
    };
    /**
     * ARN the role would have.
     */
    readonly roleArn: string;
    /**
     * The full trust policy. Secret when it holds the ExternalId.
     */
    readonly trustPolicy: any;
}
/**
 * Render the documents an XpanderConnectorRole with these arguments would write, without writing anything. Works offline when `accountId` is given.
 */
export declare function renderConnectorPoliciesOutput(args: RenderConnectorPoliciesOutputArgs, opts?: pulumi.InvokeOutputOptions): pulumi.Output<RenderConnectorPoliciesResult>;
export interface RenderConnectorPoliciesOutputArgs {
    /**
     * Account the role would live in; defaults to the provider's account.
     */
    accountId?: pulumi.Input<string>;
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
     * AWS partition (`aws`, `aws-cn`, `aws-us-gov`); defaults to the region's.
     */
    partition?: pulumi.Input<string>;
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
     * Region for regional ARNs; defaults to the provider's.
     */
    region?: pulumi.Input<string>;
    /**
     * IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.
     */
    roleName: pulumi.Input<string>;
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
