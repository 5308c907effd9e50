import * as outputs from "../types/output";
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
    accessScope?: outputs.AccessScope;
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
 * One problem the doctor found.
 */
export interface Finding {
    /**
     * Stable identifier, e.g. TAG_SESSION_TRUST.
     */
    code: string;
    /**
     * The statement or policy concerned (ExternalId values redacted).
     */
    evidence?: any;
    /**
     * How to fix it.
     */
    fix: string;
    /**
     * The role concerned.
     */
    role: string;
    /**
     * `error`, `warning` or `info`.
     */
    severity: string;
    /**
     * What is wrong and what fails because of it.
     */
    summary: string;
}
/**
 * Where the xpander pods run: the Pod Identity association of the base role.
 */
export interface PodIdentity {
    /**
     * EKS cluster name.
     */
    clusterName: string;
    /**
     * Stop EKS from adding its six session tags. Connector trust allows `sts:TagSession` either way.
     */
    disableSessionTags?: boolean;
    /**
     * Kubernetes namespace of the service account.
     */
    namespace?: string;
    /**
     * Kubernetes service account.
     */
    serviceAccount?: string;
    /**
     * Tags for the association.
     */
    tags?: {
        [key: string]: string;
    };
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
