// The example program under Pulumi's mock runtime: what it registers, with
// which inputs, and that the provider accepts every registration.

import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { CheckingMocks, project, stack, valueOf } from "./mocks";
import { CONNECTORS_ANNOTATION, FIELD_MANAGER, connectorSetDigest } from "../gateway";

const mocks = new CheckingMocks();
// s3RoleArn is exported only when the S3 connector exists (see index.ts).
let program: typeof import("../index") & { s3RoleArn?: pulumi.Output<string> };

before(async () => {
    pulumi.runtime.setAllConfig({
        [`${project}:clusterName`]: "xpander-cluster",
        [`${project}:organizationId`]: "org-7f3a9c21",
        [`${project}:platformAccountId`]: "777788889999",
        [`${project}:redshiftClusterId`]: "analytics",
        [`${project}:redshiftDatabase`]: "dev",
        [`${project}:s3Buckets`]: JSON.stringify(["xpander-data"]),
        [`${project}:restartAiGateway`]: "true",
    }, [`${project}:organizationId`]);
    await pulumi.runtime.setMocks(mocks, project, stack, false);
    program = await import("../index");
    // Exports resolve only after every registration they depend on.
    await Promise.all([program.baseRoleArn, program.redshiftRoleArn, program.eksRoleArn, program.s3RoleArn!].map(valueOf));
    await mocks.registered(PATCH);
});

const PATCH = "kubernetes:apps/v1:DeploymentPatch";

after(() => mocks.close());

const byName = (name: string) => {
    const found = mocks.registrations.find(r => r.name === name);
    assert.ok(found, `${name} was not registered`);
    return found;
};

describe("sdk-examples/typescript", () => {
    it("registers the base role, three connectors and the AI Gateway's restart", () => {
        const registered = mocks.registrations.map(r => `${r.type}::${r.name}`).sort();
        assert.deepEqual(registered, [
            "kubernetes:apps/v1:DeploymentPatch::ai-gateway-restart",
            "xpander:index:XpanderBaseRole::base",
            "xpander:index:XpanderConnectorRole::eks",
            "xpander:index:XpanderConnectorRole::redshift",
            "xpander:index:XpanderConnectorRole::s3",
        ]);
    });

    it("passes the provider's Check for every registration", () => {
        assert.deepEqual(mocks.failures(), []);
    });

    it("attaches the base role to the xpander service account", () => {
        assert.deepEqual(byName("base").inputs.podIdentity,
            { clusterName: "xpander-cluster", namespace: "xpander", serviceAccount: "xpander" });
    });

    it("sends the organization id as a secret", () => {
        for (const name of ["redshift", "eks", "s3"]) {
            const externalId = byName(name).inputs.externalId;
            assert.ok(pulumi.runtime.isRpcSecret(externalId), `${name}: externalId is not secret`);
            assert.equal(pulumi.runtime.unwrapRpcSecret(externalId), "org-7f3a9c21");
        }
    });

    it("chains every connector to the base role", () => {
        for (const name of ["redshift", "eks", "s3"]) {
            const inputs = byName(name).inputs;
            assert.equal(inputs.baseRoleArn, "arn:aws:iam::123456789012:role/xpander-base-role");
            assert.equal(inputs.baseRoleId, "AROAXPANDERBASEROLE");
        }
    });

    it("trusts xpander's account and the base role's pods only", () => {
        for (const name of ["redshift", "eks", "s3"]) {
            const inputs = byName(name).inputs;
            assert.equal(inputs.trustedAccountId, "777788889999");
            assert.deepEqual(inputs.podIdentityScope, byName("base").inputs.podIdentity);
        }
    });

    it("gives each connector only its own data source", () => {
        assert.deepEqual(byName("redshift").inputs.redshift, { clusterIdentifier: "analytics", databaseName: "dev" });
        // The SDK fills the schema's defaults in (scopedPolicy: false, the seed's EKSAccess).
        assert.deepEqual(byName("eks").inputs.eks, { clusterName: "xpander-cluster", scopedPolicy: false });
        assert.deepEqual(byName("s3").inputs.s3, { buckets: ["xpander-data"], readOnly: true });
        assert.equal(byName("redshift").inputs.eks, undefined);
    });

    it("exports the connector role ARNs for the xpander UI", async () => {
        assert.equal(await valueOf(program.redshiftRoleArn), "arn:aws:iam::123456789012:role/xpander-redshift-access");
        assert.equal(await valueOf(program.eksRoleArn), "arn:aws:iam::123456789012:role/xpander-eks-connector");
        assert.equal(await valueOf(program.s3RoleArn!), "arn:aws:iam::123456789012:role/xpander-s3-connector");
    });

    it("patches only the AI Gateway's pod template annotation, with the connector set's digest", () => {
        const arns = ["redshift-access", "eks-connector", "s3-connector"].map(n => `arn:aws:iam::123456789012:role/xpander-${n}`);
        assert.deepEqual(byName("ai-gateway-restart").inputs, {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: {
                name: "xpander-ai-gateway",
                namespace: "xpander",
                annotations: { "pulumi.com/patchFieldManager": FIELD_MANAGER },
            },
            spec: { template: { metadata: { annotations: { [CONNECTORS_ANNOTATION]: connectorSetDigest(arns) } } } },
        });
    });
});
