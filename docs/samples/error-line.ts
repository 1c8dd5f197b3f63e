// How the troubleshooting guide prints an error: class, code, whether it is retryable, message.
export function errorLine(error: unknown): string {
  const e = error as { name?: string; code?: string; retryable?: boolean; message?: string };
  return `${e.name} (${e.code}${e.retryable ? ", retryable" : ""}): ${e.message}`;
}

/** The innermost `cause` of an error: where the system error (ECONNREFUSED…) is. */
export function rootCause(error: unknown): unknown {
  let e = error;
  while (e && typeof e === "object" && "cause" in e && e.cause) e = e.cause;
  return e;
}
