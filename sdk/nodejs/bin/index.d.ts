export * from "./deployerPolicy";
export * from "./diagnose";
export * from "./provider";
export * from "./renderConnectorPolicies";
export * from "./xpanderBaseRole";
export * from "./xpanderConnectorRole";
import * as types from "./types";
export { types, };
