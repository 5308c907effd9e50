import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
/**
 * The xpander provider: AWS credentials, region and behaviour.
 */
export declare class Provider extends pulumi.ProviderResource {
    /**
     * Returns true if the given object is an instance of Provider.  This is designed to work even
     * when multiple copies of the Pulumi SDK have been loaded into the same process.
     */
    static isInstance(obj: any): obj is Provider;
    /**
     * Create a Provider resource with the given unique name, arguments, and options.
     *
     * @param name The _unique_ name of the resource.
     * @param args The arguments to use to populate this resource's properties.
     * @param opts A bag of options that control this resource's behavior.
     */
    constructor(name: string, args?: ProviderArgs, opts?: pulumi.ResourceOptions);
}
/**
 * The set of arguments for constructing a Provider resource.
 */
export interface ProviderArgs {
    /**
     * Role to assume for all AWS calls.
     */
    assumeRole?: pulumi.Input<inputs.AssumeRoleArgs>;
    /**
     * Tags added to every role the provider creates.
     */
    defaultTags?: pulumi.Input<{
        [key: string]: pulumi.Input<string>;
    }>;
    /**
     * Custom endpoints for IAM, STS and EKS (e.g. a local emulator).
     */
    endpoints?: pulumi.Input<inputs.EndpointsArgs>;
    /**
     * Attempts per AWS call for transient errors (default 10). Throttled calls are paced and sent again, not counted.
     */
    maxRetries?: pulumi.Input<number>;
    /**
     * Named profile from the shared AWS config files.
     */
    profile?: pulumi.Input<string>;
    /**
     * Seconds to keep retrying while IAM propagates a new role (default 120).
     */
    propagationTimeout?: pulumi.Input<number>;
    /**
     * AWS region (or AWS_REGION). IAM is global; the region selects EKS and the ARNs of regional services.
     */
    region?: pulumi.Input<string>;
    /**
     * Do not validate credentials when the provider starts (they are validated lazily on first use either way).
     */
    skipCredentialsValidation?: pulumi.Input<boolean>;
}
