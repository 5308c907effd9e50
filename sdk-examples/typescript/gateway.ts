// The seed's last step after a connector is added, in code: restart the AI
// Gateway (`kubectl rollout restart deployment xpander-ai-gateway -n xpander`)
// so it picks the new connector up. A pod-template annotation holds a digest
// of the connector role ARNs: the Deployment rolls exactly when the set of
// connectors changes, and not on any other `pulumi up`.

import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
// The apps/v1 module alone: the package's index brings every API group's types.
import * as appsv1 from "@pulumi/kubernetes/apps/v1";

export const GATEWAY_DEPLOYMENT = "xpander-ai-gateway";
export const GATEWAY_NAMESPACE = "xpander";
export const CONNECTORS_ANNOTATION = "xpander.ai/connector-roles-sha256";
// Server-side apply records this manager as the owner of the annotation alone.
export const FIELD_MANAGER = "pulumi-xpander-connectors";

/** sha256 (hex) of the set of connector role ARNs: sorted and without
 * repeats, so the order they are listed in does not matter. */
export function connectorSetDigest(arns: readonly string[]): string {
    const set = [...new Set(arns)].sort();
    return createHash("sha256").update(set.join("\n")).digest("hex");
}

/** The AI Gateway's Deployment patched (server-side apply, an existing
 * Deployment of the xpander install) with only the digest annotation on its
 * pod template: a new digest is a new template, which Kubernetes rolls out. */
export function restartGatewayOnConnectorChange(
    name: string,
    connectorArns: pulumi.Input<string>[],
    opts?: pulumi.CustomResourceOptions,
): appsv1.DeploymentPatch {
    return new appsv1.DeploymentPatch(name, {
        metadata: {
            name: GATEWAY_DEPLOYMENT,
            namespace: GATEWAY_NAMESPACE,
            annotations: { "pulumi.com/patchFieldManager": FIELD_MANAGER },
        },
        spec: {
            template: {
                metadata: {
                    annotations: { [CONNECTORS_ANNOTATION]: pulumi.all(connectorArns).apply(connectorSetDigest) },
                },
            },
        },
    }, opts);
}
