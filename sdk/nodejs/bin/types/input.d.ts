import * as pulumi from "@pulumi/pulumi";
import * as inputs from "../types/input";
/**
 * Scope of an EKS access policy association.
 */
export interface AccessScope {
    /**
     * Namespaces, when the type is `namespace`.
     */
    namespaces?: string[];
    /**
     * `cluster` or `namespace`.
     */
    type: string;
}
/**
 * Athena work groups the connector queries.
 */
export interface Athena {
    /**
     * Buckets holding the tables' data: Athena reads them with the connector's credentials (read only).
     */
    dataBuckets?: string[];
    /**
     * Glue databases the queries read.
     */
    glueDatabases?: string[];
    /**
     * Bucket for query results.
     */
    outputBucket?: string;
    /**
     * Region of the work groups and Glue catalog; defaults to the provider's region.
     */
    region?: string;
    /**
     * Work group names.
     */
    workGroups: string[];
}
/**
 * Bedrock models the xpander AI Gateway invokes with this role.
 */
export interface Bedrock {
    /**
     * Regions the cross-Region inference profiles in `modelArns` route to. Defaults to the Regions of the profile's geography (`us`, `eu`, `apac`, `jp`, `au`, `us-gov`); required for `global` profiles.
     */
    destinationRegions?: string[];
    /**
     * ARNs of the foundation models (`arn:aws:bedrock:<region>::foundation-model/<model id>`) and inference profiles (`arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>`, or `application-inference-profile/<id>`) the role may invoke, with InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream.
     */
    modelArns: string[];
}
/**
 * DynamoDB tables the connector reads (and writes unless read-only).
 */
export interface DynamoDb {
    /**
     * Only read items (the default, least privilege); `false` adds item writes.
     */
    readOnly?: boolean;
    /**
     * Region of the tables; defaults to the provider's region.
     */
    region?: string;
    /**
     * Table names.
     */
    tables: string[];
}
/**
 * An EKS cluster the connector reads, with its Kubernetes access.
 */
export interface Eks {
    /**
     * EKS access policy to associate; the seed's `AmazonEKSClusterAdminPolicy` by default. `AmazonEKSViewPolicy` is the read-only choice.
     */
    accessPolicyArn?: string;
    /**
     * Scope of the access policy (cluster by default).
     */
    accessScope?: inputs.AccessScope;
    /**
     * EKS cluster name, in the provider's region (use a provider for another region).
     */
    clusterName: string;
    /**
     * Scope `EKSAccess` to this cluster (its ARN, node groups and control-plane log group) instead of the seed's `Resource: "*"`; the connector then cannot read other clusters or other log groups, such as Container Insights application logs.
     */
    scopedPolicy?: boolean;
}
/**
 * A Redshift cluster and database the connector queries.
 */
export interface Redshift {
    /**
     * Redshift cluster identifier.
     */
    clusterIdentifier: string;
    /**
     * Database name.
     */
    databaseName: string;
    /**
     * Database users the connector may get credentials for; all (`*`) when omitted, as in the seed.
     */
    dbUsers?: string[];
    /**
     * Region of the cluster; defaults to the provider's region.
     */
    region?: string;
}
/**
 * S3 buckets the connector reads (and writes unless read-only).
 */
export interface S3 {
    /**
     * Bucket names.
     */
    buckets: string[];
    /**
     * Key prefixes to restrict object access to.
     */
    prefixes?: string[];
    /**
     * Only read objects (the default, least privilege); `false` adds PutObject and DeleteObject.
     */
    readOnly?: boolean;
}
/**
 * Secrets holding connector credentials, read by the connector.
 */
export interface SecretsManager {
    /**
     * ARN of the customer managed KMS key that encrypts the secrets: `kms:Decrypt` on it, only through Secrets Manager. Not needed for the AWS managed key `aws/secretsmanager`.
     */
    kmsKeyArn?: string;
    /**
     * ARNs of the secrets (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`); a name may end in `-??????` to match its random suffix.
     */
    secretArns: string[];
}
/**
 * Scope of an EKS access policy association.
 */
export interface AccessScopeArgs {
    /**
     * Namespaces, when the type is `namespace`.
     */
    namespaces?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * `cluster` or `namespace`.
     */
    type: pulumi.Input<string>;
}
/**
 * A role the provider assumes before calling AWS.
 */
export interface AssumeRoleArgs {
    /**
     * ExternalId required by the role's trust policy.
     */
    externalId?: pulumi.Input<string>;
    /**
     * ARN of the role.
     */
    roleArn: pulumi.Input<string>;
    /**
     * Session name (default `pulumi-xpander`).
     */
    sessionName?: pulumi.Input<string>;
}
/**
 * Athena work groups the connector queries.
 */
export interface AthenaArgs {
    /**
     * Buckets holding the tables' data: Athena reads them with the connector's credentials (read only).
     */
    dataBuckets?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Glue databases the queries read.
     */
    glueDatabases?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Bucket for query results.
     */
    outputBucket?: pulumi.Input<string>;
    /**
     * Region of the work groups and Glue catalog; defaults to the provider's region.
     */
    region?: pulumi.Input<string>;
    /**
     * Work group names.
     */
    workGroups: pulumi.Input<pulumi.Input<string>[]>;
}
/**
 * Bedrock models the xpander AI Gateway invokes with this role.
 */
export interface BedrockArgs {
    /**
     * Regions the cross-Region inference profiles in `modelArns` route to. Defaults to the Regions of the profile's geography (`us`, `eu`, `apac`, `jp`, `au`, `us-gov`); required for `global` profiles.
     */
    destinationRegions?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * ARNs of the foundation models (`arn:aws:bedrock:<region>::foundation-model/<model id>`) and inference profiles (`arn:aws:bedrock:<region>:<account>:inference-profile/<profile id>`, or `application-inference-profile/<id>`) the role may invoke, with InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream.
     */
    modelArns: pulumi.Input<pulumi.Input<string>[]>;
}
/**
 * DynamoDB tables the connector reads (and writes unless read-only).
 */
export interface DynamoDbArgs {
    /**
     * Only read items (the default, least privilege); `false` adds item writes.
     */
    readOnly?: pulumi.Input<boolean>;
    /**
     * Region of the tables; defaults to the provider's region.
     */
    region?: pulumi.Input<string>;
    /**
     * Table names.
     */
    tables: pulumi.Input<pulumi.Input<string>[]>;
}
/**
 * dynamoDbArgsProvideDefaults sets the appropriate defaults for DynamoDbArgs
 */
export declare function dynamoDbArgsProvideDefaults(val: DynamoDbArgs): DynamoDbArgs;
/**
 * An EKS cluster the connector reads, with its Kubernetes access.
 */
export interface EksArgs {
    /**
     * EKS access policy to associate; the seed's `AmazonEKSClusterAdminPolicy` by default. `AmazonEKSViewPolicy` is the read-only choice.
     */
    accessPolicyArn?: pulumi.Input<string>;
    /**
     * Scope of the access policy (cluster by default).
     */
    accessScope?: pulumi.Input<inputs.AccessScopeArgs>;
    /**
     * EKS cluster name, in the provider's region (use a provider for another region).
     */
    clusterName: pulumi.Input<string>;
    /**
     * Scope `EKSAccess` to this cluster (its ARN, node groups and control-plane log group) instead of the seed's `Resource: "*"`; the connector then cannot read other clusters or other log groups, such as Container Insights application logs.
     */
    scopedPolicy?: pulumi.Input<boolean>;
}
/**
 * eksArgsProvideDefaults sets the appropriate defaults for EksArgs
 */
export declare function eksArgsProvideDefaults(val: EksArgs): EksArgs;
/**
 * Endpoint overrides.
 */
export interface EndpointsArgs {
    /**
     * EKS endpoint URL.
     */
    eks?: pulumi.Input<string>;
    /**
     * IAM endpoint URL.
     */
    iam?: pulumi.Input<string>;
    /**
     * STS endpoint URL.
     */
    sts?: pulumi.Input<string>;
}
/**
 * Where the xpander pods run: the Pod Identity association of the base role.
 */
export interface PodIdentityArgs {
    /**
     * EKS cluster name.
     */
    clusterName: pulumi.Input<string>;
    /**
     * Stop EKS from adding its six session tags. Connector trust allows `sts:TagSession` either way.
     */
    disableSessionTags?: pulumi.Input<boolean>;
    /**
     * Kubernetes namespace of the service account.
     */
    namespace?: pulumi.Input<string>;
    /**
     * Kubernetes service account.
     */
    serviceAccount?: pulumi.Input<string>;
    /**
     * Tags for the association.
     */
    tags?: pulumi.Input<{
        [key: string]: pulumi.Input<string>;
    }>;
}
/**
 * podIdentityArgsProvideDefaults sets the appropriate defaults for PodIdentityArgs
 */
export declare function podIdentityArgsProvideDefaults(val: PodIdentityArgs): PodIdentityArgs;
/**
 * A Redshift cluster and database the connector queries.
 */
export interface RedshiftArgs {
    /**
     * Redshift cluster identifier.
     */
    clusterIdentifier: pulumi.Input<string>;
    /**
     * Database name.
     */
    databaseName: pulumi.Input<string>;
    /**
     * Database users the connector may get credentials for; all (`*`) when omitted, as in the seed.
     */
    dbUsers?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Region of the cluster; defaults to the provider's region.
     */
    region?: pulumi.Input<string>;
}
/**
 * S3 buckets the connector reads (and writes unless read-only).
 */
export interface S3Args {
    /**
     * Bucket names.
     */
    buckets: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Key prefixes to restrict object access to.
     */
    prefixes?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Only read objects (the default, least privilege); `false` adds PutObject and DeleteObject.
     */
    readOnly?: pulumi.Input<boolean>;
}
/**
 * s3ArgsProvideDefaults sets the appropriate defaults for S3Args
 */
export declare function s3ArgsProvideDefaults(val: S3Args): S3Args;
/**
 * Secrets holding connector credentials, read by the connector.
 */
export interface SecretsManagerArgs {
    /**
     * ARN of the customer managed KMS key that encrypts the secrets: `kms:Decrypt` on it, only through Secrets Manager. Not needed for the AWS managed key `aws/secretsmanager`.
     */
    kmsKeyArn?: pulumi.Input<string>;
    /**
     * ARNs of the secrets (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`); a name may end in `-??????` to match its random suffix.
     */
    secretArns: pulumi.Input<pulumi.Input<string>[]>;
}
