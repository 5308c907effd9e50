import * as pulumi from "@pulumi/pulumi";
import * as inputs from "./types/input";
import * as outputs from "./types/output";
/**
 * The xpander base role: attached to the xpander pods through EKS Pod Identity, trusted only by `pods.eks.amazonaws.com`, with no service permissions — it can only assume connector roles.
 */
export declare class XpanderBaseRole extends pulumi.CustomResource {
    /**
     * Get an existing XpanderBaseRole resource's state with the given name and ID (the IAM role name).
     *
     * @param name The _unique_ name of the resulting resource.
     * @param id The _unique_ provider ID of the resource to lookup.
     * @param opts Optional settings to control the behavior of the CustomResource.
     */
    static get(name: string, id: pulumi.Input<pulumi.ID>, opts?: pulumi.CustomResourceOptions): XpanderBaseRole;
    /**
     * Returns true if the given object is an instance of XpanderBaseRole.  This is designed to work even
     * when multiple copies of the Pulumi SDK have been loaded into the same process.
     */
    static isInstance(obj: any): obj is XpanderBaseRole;
    /**
     * Account that owns the role.
     */
    readonly accountId: pulumi.Output<string>;
    /**
     * ARN of the role.
     */
    readonly arn: pulumi.Output<string>;
    /**
     * Managed policies found attached by a refresh. The base role holds none: anything here is drift, detached by the next update.
     */
    readonly attachedPolicyArns: pulumi.Output<string[] | undefined>;
    /**
     * Extra connector role ARNs listed in the seed's `AssumeConnectorRoles` policy. Connectors declared with `XpanderConnectorRole` grant themselves and need not be listed.
     */
    readonly connectorRoleArns: pulumi.Output<string[] | undefined>;
    /**
     * Role description.
     */
    readonly description: pulumi.Output<string | undefined>;
    /**
     * Maximum session duration in seconds (3600–43200).
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
     * EKS Pod Identity association for the xpander service account. Changing cluster, namespace or service account replaces the association, not the role.
     */
    readonly podIdentity: pulumi.Output<outputs.PodIdentity | undefined>;
    /**
     * ARN of the Pod Identity association.
     */
    readonly podIdentityAssociationArn: pulumi.Output<string | undefined>;
    /**
     * Id of the Pod Identity association.
     */
    readonly podIdentityAssociationId: pulumi.Output<string | undefined>;
    /**
     * Inline policies owned by this resource, by name.
     */
    readonly policies: pulumi.Output<{
        [key: string]: any;
    }>;
    /**
     * Unique id (AROA…) of the role. Pass it to connectors as `baseRoleId` so a replaced base role rewrites their trust.
     */
    readonly roleId: pulumi.Output<string>;
    /**
     * IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.
     */
    readonly roleName: pulumi.Output<string | undefined>;
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
     * The trust policy as written.
     */
    readonly trustPolicy: pulumi.Output<any>;
    /**
     * Create a XpanderBaseRole resource with the given unique name, arguments, and options.
     *
     * @param name The _unique_ name of the resource.
     * @param args The arguments to use to populate this resource's properties.
     * @param opts A bag of options that control this resource's behavior.
     */
    constructor(name: string, args?: XpanderBaseRoleArgs, opts?: pulumi.CustomResourceOptions);
}
/**
 * The set of arguments for constructing a XpanderBaseRole resource.
 */
export interface XpanderBaseRoleArgs {
    /**
     * Extra connector role ARNs listed in the seed's `AssumeConnectorRoles` policy. Connectors declared with `XpanderConnectorRole` grant themselves and need not be listed.
     */
    connectorRoleArns?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Role description.
     */
    description?: pulumi.Input<string>;
    /**
     * Maximum session duration in seconds (3600–43200).
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
     * EKS Pod Identity association for the xpander service account. Changing cluster, namespace or service account replaces the association, not the role.
     */
    podIdentity?: pulumi.Input<inputs.PodIdentityArgs>;
    /**
     * IAM role name. Autonamed from the resource name when omitted (and kept on later runs). Changing it replaces the role.
     */
    roleName?: pulumi.Input<string>;
    /**
     * Tags for the role, merged over the provider's `defaultTags`. `ManagedBy=pulumi-xpander` is added unless set.
     */
    tags?: pulumi.Input<{
        [key: string]: pulumi.Input<string>;
    }>;
}
