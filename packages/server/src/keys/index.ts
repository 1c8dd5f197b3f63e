export { KeyGate, type KeyGateOptions, type KeyView, type NewKey } from "./key-gate";
export { MemoryKeyStore, type MemoryKeyStoreOptions } from "./memory-key-store";
export { type AdminHandlerOptions, createAdminHandler, parseNewKey, parseSince } from "./admin";
export { KEY_PREFIX, generateKey, hashKey } from "./key-material";
