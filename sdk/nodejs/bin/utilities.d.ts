export declare function getVersion(): string;
