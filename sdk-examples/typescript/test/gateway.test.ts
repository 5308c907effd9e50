// The AI Gateway restarts exactly when the set of connectors changes: the
// digest its pod template is annotated with changes when a connector is added
// or removed, and not with their order or any other input of the program.

import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { CONNECTORS_ANNOTATION, connectorSetDigest } from "../gateway";
import { CheckingMocks, project, stack } from "./mocks";

const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
const REDSHIFT = role("xpander-redshift-access");
const EKS = role("xpander-eks-connector");
const S3 = role("xpander-s3-connector");

describe("connectorSetDigest", () => {
    it("is the sha256 of the sorted ARNs, one a line: an upgrade keeps it, so it restarts nothing", () => {
        assert.equal(connectorSetDigest([REDSHIFT, EKS, S3]), "b26912c811300e7cd3cda6aee017cede61c082064dee7c60a7adb331d4d0a9cb");
        assert.equal(connectorSetDigest([REDSHIFT, EKS]), "413416c3a6615abcbb3e525f85fe44064cfc3a38b0052f006e82cd663b2f3fca");
    });

    it("does not change with the order or a repeat", () => {
        const digest = connectorSetDigest([REDSHIFT, EKS, S3]);
        assert.equal(connectorSetDigest([S3, REDSHIFT, EKS]), digest);
        assert.equal(connectorSetDigest([EKS, S3, REDSHIFT, EKS]), digest);
    });

    it("changes when a connector is added, removed or replaced by another", () => {
        const two = connectorSetDigest([REDSHIFT, EKS]);
        assert.notEqual(connectorSetDigest([REDSHIFT, EKS, S3]), two);
        assert.notEqual(connectorSetDigest([REDSHIFT]), two);
        assert.notEqual(connectorSetDigest([REDSHIFT, S3]), two);
        assert.notEqual(connectorSetDigest([REDSHIFT, role("xpander-eks-connector-2")]), two);
    });
});

/** The annotation the example program writes with this stack configuration. */
async function annotationWith(config: Record<string, string>): Promise<string> {
    const mocks = new CheckingMocks();
    try {
        pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries({
            clusterName: "xpander-cluster",
            organizationId: "org-7f3a9c21",
            platformAccountId: "777788889999",
            redshiftClusterId: "analytics",
            redshiftDatabase: "dev",
            s3Buckets: "[]",
            restartAiGateway: "true",
            ...config,
        }).map(([k, v]) => [`${project}:${k}`, v])), [`${project}:organizationId`]);
        await pulumi.runtime.setMocks(mocks, project, stack, false);
        // A new run of the program: it registers everything again.
        delete require.cache[require.resolve("../index")];
        require("../index");
        const patch = await mocks.registered("kubernetes:apps/v1:DeploymentPatch");
        assert.deepEqual(mocks.failures(), []);
        return patch.inputs.spec.template.metadata.annotations[CONNECTORS_ANNOTATION];
    } finally {
        mocks.close();
    }
}

describe("the example program", () => {
    it("rolls the AI Gateway when a connector is added, not when a connector's other inputs change", async () => {
        const two = await annotationWith({});
        assert.equal(two, connectorSetDigest([REDSHIFT, EKS]));
        assert.equal(await annotationWith({ redshiftDatabase: "analytics", clusterName: "xpander-cluster" }), two);
        const three = await annotationWith({ s3Buckets: JSON.stringify(["xpander-data"]) });
        assert.equal(three, connectorSetDigest([REDSHIFT, EKS, S3]));
        assert.notEqual(three, two);
        assert.equal(await annotationWith({ s3Buckets: JSON.stringify(["xpander-data", "xpander-exports"]) }), three);
    });
});
