export { CustomAPIClient, CustomAPIError, type CustomClientOptions, type CustomResponse } from "./custom-api-client";
export { MyCustomModel, type MyCustomModelOptions } from "./my-custom-model";
export { customProvider } from "./provider";
export { customProvider as default } from "./provider";
