import * as pulumi from "@pulumi/pulumi";
import * as outputs from "./types/output";
/**
 * Read live IAM/EKS state of a base role and its connectors and report misconfigurations (the seed's Troubleshooting causes and security recommendations), each with evidence and a fix.
 */
export declare function diagnose(args?: DiagnoseArgs, opts?: pulumi.InvokeOptions): Promise<DiagnoseResult>;
export interface DiagnoseArgs {
    /**
     * ARN of the base role, for connectors in another account than the base role: a base role outside this provider's account is not read (its credentials cannot), and the connectors are checked against its ARN.
     */
    baseRoleArn?: string;
    /**
     * Name of the base role, in the account this provider reaches. Give this or `baseRoleArn`.
     */
    baseRoleName?: string;
    /**
     * EKS cluster of the xpander pods: enables the Pod Identity and access-entry checks.
     */
    clusterName?: string;
    /**
     * Names of the connector roles.
     */
    connectorRoleNames?: string[];
    /**
     * Namespace of the xpander service account.
     */
    namespace?: string;
    /**
     * The xpander service account.
     */
    serviceAccount?: string;
}
/**
 * A collection of values returned by diagnose.
 */
export interface DiagnoseResult {
    /**
     * Number of error findings.
     */
    readonly errorCount: number;
    /**
     * What is wrong, most severe first.
     */
    readonly findings: outputs.Finding[];
    /**
     * Number of warning findings.
     */
    readonly warningCount: number;
}
/**
 * Read live IAM/EKS state of a base role and its connectors and report misconfigurations (the seed's Troubleshooting causes and security recommendations), each with evidence and a fix.
 */
export declare function diagnoseOutput(args?: DiagnoseOutputArgs, opts?: pulumi.InvokeOutputOptions): pulumi.Output<DiagnoseResult>;
export interface DiagnoseOutputArgs {
    /**
     * ARN of the base role, for connectors in another account than the base role: a base role outside this provider's account is not read (its credentials cannot), and the connectors are checked against its ARN.
     */
    baseRoleArn?: pulumi.Input<string>;
    /**
     * Name of the base role, in the account this provider reaches. Give this or `baseRoleArn`.
     */
    baseRoleName?: pulumi.Input<string>;
    /**
     * EKS cluster of the xpander pods: enables the Pod Identity and access-entry checks.
     */
    clusterName?: pulumi.Input<string>;
    /**
     * Names of the connector roles.
     */
    connectorRoleNames?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Namespace of the xpander service account.
     */
    namespace?: pulumi.Input<string>;
    /**
     * The xpander service account.
     */
    serviceAccount?: pulumi.Input<string>;
}
