export { CustomAPIClient, CustomAPIError, type CustomClientOptions, type CustomResponse } from "./custom-api-client";
export { MyCustomModel, type MyCustomModelOptions } from "./my-custom-model";
export { customProvider } from "./provider";
/** The YAML plugin under the name the config loader looks for, so `provider: "@acme/orchestrator-provider-custom"` finds it by package name. A named export rather than a default one: CommonJS consumers would otherwise need `.default`. */
export { customProvider as provider } from "./provider";
