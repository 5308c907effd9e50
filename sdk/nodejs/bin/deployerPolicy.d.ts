import * as pulumi from "@pulumi/pulumi";
/**
 * The IAM policy the principal running `pulumi` with this provider needs: `preview` (reads only: preview, refresh, Check and Diff) or `deploy` (create, update, delete, refresh and import of both resources), scoped to the roles, path and cluster given.
 */
export declare function deployerPolicy(args: DeployerPolicyArgs, opts?: pulumi.InvokeOptions): Promise<DeployerPolicyResult>;
export interface DeployerPolicyArgs {
    /**
     * Account of the roles and clusters; any (`*`) when omitted.
     */
    accountId?: string;
    /**
     * EKS cluster of the Pod Identity association and access entries; any (`*`) when omitted.
     */
    clusterName?: string;
    /**
     * `preview`, `deploy`, or `doctor` (the doctor and `diagnose`: reads only).
     */
    mode: string;
    /**
     * AWS partition.
     */
    partition?: string;
    /**
     * IAM path of the roles.
     */
    path?: string;
    /**
     * Region of the EKS clusters; any (`*`) when omitted.
     */
    region?: string;
    /**
     * Prefix every managed role name (base and connectors) starts with.
     */
    roleNamePrefix?: string;
}
/**
 * A collection of values returned by deployerPolicy.
 */
export interface DeployerPolicyResult {
    /**
     * Every action it allows, sorted.
     */
    readonly actions: string[];
    /**
     * The identity policy document.
     */
    readonly policy: any;
}
/**
 * The IAM policy the principal running `pulumi` with this provider needs: `preview` (reads only: preview, refresh, Check and Diff) or `deploy` (create, update, delete, refresh and import of both resources), scoped to the roles, path and cluster given.
 */
export declare function deployerPolicyOutput(args: DeployerPolicyOutputArgs, opts?: pulumi.InvokeOutputOptions): pulumi.Output<DeployerPolicyResult>;
export interface DeployerPolicyOutputArgs {
    /**
     * Account of the roles and clusters; any (`*`) when omitted.
     */
    accountId?: pulumi.Input<string>;
    /**
     * EKS cluster of the Pod Identity association and access entries; any (`*`) when omitted.
     */
    clusterName?: pulumi.Input<string>;
    /**
     * `preview`, `deploy`, or `doctor` (the doctor and `diagnose`: reads only).
     */
    mode: pulumi.Input<string>;
    /**
     * AWS partition.
     */
    partition?: pulumi.Input<string>;
    /**
     * IAM path of the roles.
     */
    path?: pulumi.Input<string>;
    /**
     * Region of the EKS clusters; any (`*`) when omitted.
     */
    region?: pulumi.Input<string>;
    /**
     * Prefix every managed role name (base and connectors) starts with.
     */
    roleNamePrefix?: pulumi.Input<string>;
}
