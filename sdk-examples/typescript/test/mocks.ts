// Pulumi mocks that validate every registration with the provider binary's own
// Check (CheckConfig for a provider resource) over gRPC, so the SDK and the
// provider cannot disagree on a property name, type or nested shape. Other
// packages' resources (the AI Gateway's Kubernetes patch) are recorded as
// registered, with their inputs as their state: no Kubernetes API server runs here.
//
// The provider runs outside: `make test-sdks` (tests/sdk/test_typescript.py)
// starts and configures it and passes its address in XPANDER_PROVIDER_ADDRESS.

import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import * as providerRpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerProto from "@pulumi/pulumi/proto/provider_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { randomBytes } from "crypto";

export const project = "xpander-iam";
export const stack = "dev";
const account = "123456789012";

export interface Registration {
    type: string;
    name: string;
    inputs: Record<string, any>;
    failures: string[];
}

export class CheckingMocks implements pulumi.runtime.Mocks {
    readonly registrations: Registration[] = [];
    private readonly client: providerRpc.ResourceProviderClient;
    private waiting: { type: string; resolve: (r: Registration) => void }[] = [];

    constructor(address = process.env.XPANDER_PROVIDER_ADDRESS) {
        if (!address) {
            throw new Error("XPANDER_PROVIDER_ADDRESS is not set: run these tests with `make test-sdks`");
        }
        this.client = new providerRpc.ResourceProviderClient(address, grpc.credentials.createInsecure());
    }

    /** The first registration of `type`, once the program has made it. */
    registered(type: string): Promise<Registration> {
        const done = this.registrations.find(r => r.type === type);
        return done ? Promise.resolve(done) : new Promise(resolve => this.waiting.push({ type, resolve }));
    }

    private record(registration: Registration): void {
        this.registrations.push(registration);
        const matched = this.waiting.filter(w => w.type === registration.type);
        this.waiting = this.waiting.filter(w => w.type !== registration.type);
        matched.forEach(w => w.resolve(registration));
    }

    failures(): string[] {
        return this.registrations.flatMap(r => r.failures.map(f => `${r.type} ${r.name}: ${f}`));
    }

    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
        if (!isXpander(args.type)) {
            this.record({ type: args.type, name: args.name, inputs: args.inputs, failures: [] });
            return { id: args.name, state: args.inputs };
        }
        const response = await this.check(args);
        const failures = response.getFailuresList().map(f => `${f.getProperty() || "<resource>"}: ${f.getReason()}`);
        this.record({ type: args.type, name: args.name, inputs: args.inputs, failures });
        if (failures.length > 0) {
            return { id: undefined, state: {} };
        }
        // What Create would return, enough for dependents: id = role name.
        const checked = response.getInputs()?.toJavaScript() ?? {};
        const roleName = String(checked["roleName"] ?? args.name);
        return {
            id: roleName,
            state: {
                ...checked,
                arn: `arn:aws:iam::${account}:role/${roleName}`,
                roleId: `AROA${roleName.toUpperCase().replace(/-/g, "").slice(0, 17)}`,
                accountId: account,
            },
        };
    }

    /** Invokes run for real: the provider's functions are pure or read AWS. */
    call(args: pulumi.runtime.MockCallArgs): Promise<Record<string, any>> {
        const request = new providerProto.InvokeRequest();
        request.setTok(args.token);
        request.setArgs(Struct.fromJavaScript(args.inputs));
        return new Promise((resolve, reject) => this.client.invoke(request, (err, response) => {
            if (err) {
                return reject(err);
            }
            const failures = response.getFailuresList().map(f => `${f.getProperty()}: ${f.getReason()}`);
            return failures.length > 0
                ? reject(new Error(`${args.token}: ${failures.join("; ")}`))
                : resolve(response.getReturn()?.toJavaScript() ?? {});
        }));
    }

    close(): void {
        this.client.close();
    }

    private check(args: pulumi.runtime.MockResourceArgs): Promise<providerProto.CheckResponse> {
        const request = new providerProto.CheckRequest();
        request.setUrn(`urn:pulumi:${stack}::${project}::${args.type}::${args.name}`);
        request.setType(args.type);
        request.setName(args.name);
        request.setOlds(Struct.fromJavaScript({}));
        // The mock sees inputs as the engine does: secrets still wrapped.
        request.setNews(Struct.fromJavaScript(args.inputs));
        request.setRandomseed(randomBytes(32));
        const isProvider = args.type.startsWith("pulumi:providers:");
        return new Promise((resolve, reject) => {
            const done = (err: grpc.ServiceError | null, response: providerProto.CheckResponse) =>
                err ? reject(err) : resolve(response);
            if (isProvider) {
                this.client.checkConfig(request, done);
            } else {
                this.client.check(request, done);
            }
        });
    }
}

function isXpander(type: string): boolean {
    return type.startsWith("xpander:") || type === "pulumi:providers:xpander";
}

/** The value of an output once the mocked deployment has resolved it. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise(resolve => output.apply(resolve));
}
