// The SDK's Provider class: every configuration key, encoded the way Pulumi's
// SDKs send provider inputs, passes the provider's CheckConfig. And the SDK's
// functions, answered by the provider's Invoke.

import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as xpander from "@xpander-ai/pulumi-xpander";
import { CheckingMocks, project, stack, valueOf } from "./mocks";

const mocks = new CheckingMocks();
let role: xpander.XpanderConnectorRole;

before(async () => {
    await pulumi.runtime.setMocks(mocks, project, stack, false);
    const provider = new xpander.Provider("explicit", {
        region: "eu-west-1",
        profile: "xpander",
        assumeRole: { roleArn: "arn:aws:iam::123456789012:role/deployer", externalId: pulumi.secret("ext-1"), sessionName: "ci" },
        endpoints: { iam: "http://127.0.0.1:1", sts: "http://127.0.0.1:1", eks: "http://127.0.0.1:1" },
        defaultTags: { Project: "xpander" },
        propagationTimeout: 30,
        maxRetries: 3,
        permissionsBoundary: "arn:aws:iam::123456789012:policy/xpander-boundary",
        skipCredentialsValidation: true,
    });
    role = new xpander.XpanderConnectorRole("athena", {
        athena: { workGroups: ["primary"], outputBucket: "results" },
        dynamodb: { tables: ["sessions"], readOnly: true },
    }, { provider });
    await valueOf(role.arn);
});

after(() => mocks.close());

describe("Provider", () => {
    it("registers pulumi:providers:xpander with JSON-encoded non-string inputs", () => {
        const registered = mocks.registrations.find(r => r.type === "pulumi:providers:xpander");
        assert.ok(registered);
        assert.equal(registered.inputs.maxRetries, "3");
        assert.equal(registered.inputs.region, "eu-west-1");
    });

    it("passes the provider's CheckConfig and Check", () => {
        assert.deepEqual(mocks.failures(), []);
        assert.equal(mocks.registrations.length, 2);
    });

    it("identifies its resources", () => {
        assert.ok(xpander.XpanderConnectorRole.isInstance(role));
        assert.ok(!xpander.XpanderBaseRole.isInstance(role));
    });
});

describe("renderConnectorPolicies", () => {
    const args = {
        roleName: "xpander-redshift-access",
        accountId: "123456789012",  // offline: no AWS call for the account
        baseRoleArn: "arn:aws:iam::123456789012:role/xpander-base-role",
        externalId: "org-7f3a9c21",
        redshift: { clusterIdentifier: "analytics", databaseName: "dev" },
    };

    it("returns the seed's four trust statements", async () => {
        const rendered = await xpander.renderConnectorPolicies(args);
        assert.equal(rendered.roleArn, "arn:aws:iam::123456789012:role/xpander-redshift-access");
        assert.deepEqual(rendered.trustPolicy.Statement.map((s: { Sid: string }) => s.Sid),
            ["PodIdentity", "CrossAccountWithExternalId", "SelfAssume", "AllowFromBaseRole"]);
        assert.deepEqual(Object.keys(rendered.policies).sort(), ["RedshiftCredentials", "RedshiftDataAPI", "SelfAssumeAndTagSession"]);
    });

    it("keeps a secret input secret in the Output form", async () => {
        const rendered = xpander.renderConnectorPoliciesOutput({ ...args, externalId: pulumi.secret(args.externalId) });
        assert.equal(await valueOf(rendered.roleArn), "arn:aws:iam::123456789012:role/xpander-redshift-access");
        assert.ok(await pulumi.isSecret(rendered));
    });
});
