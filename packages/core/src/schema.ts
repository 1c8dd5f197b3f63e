import { z } from "zod";
import type { SchemaLike } from "./types";

/** True for zod schemas (of any loaded zod 4 copy). */
export function isZodSchema(value: unknown): value is z.ZodType {
  return typeof value === "object" && value !== null && "_zod" in value;
}

/** The JSON Schema of a tool's parameters or a response format, converting zod schemas. */
export function toJsonSchema(schema: SchemaLike): Record<string, unknown> {
  if (isZodSchema(schema)) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
    return rest;
  }
  return schema as Record<string, unknown>;
}
