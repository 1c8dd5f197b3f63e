import type { CallControl } from "@orchestrator-ts/core";
import type { Dispatcher } from "undici";
import type { OpenAISdk } from "./sdk";
import { ResponseHeaders, UndiciResponse, rejectedOnAbort, rememberRedirect, sharedAgent } from "./transport";

/** Who is asked, and with what headers: fixed when the model initialises. */
export interface DirectTarget {
  /** `scheme://host:port` of the base URL. */
  origin: string;
  /** The base URL's path with `/chat/completions` after it. */
  path: string;
  /** Every request's headers, secrets revealed (never shown: this object stays inside the model). */
  headers: Record<string, string>;
}

/**
 * Chat completions sent straight through undici's `request`, without the `openai` SDK's request
 * machinery (its header merging, option preparation, debug-log formatting, per-call
 * `AbortController` and timer, `APIPromise`) — measured as the largest single part of a gateway
 * request's CPU that was not the socket itself. Only what the SDK path would do for this one
 * request is done: the same headers (built once), the same body, and failures turned into the
 * SDK's own error classes, so that `mapOpenAIError` and everything after it see what they saw.
 * Used where nothing the SDK adds is asked for (see `OpenAIModel`); a redirect goes back to it.
 */
export class DirectChat {
  readonly #target: DirectTarget;
  readonly #sdk: OpenAISdk;
  readonly #dispatcher: Dispatcher;
  /** The request's URL, made once (each answer carries it). */
  readonly #url: string;

  constructor(target: DirectTarget, sdk: OpenAISdk, dispatcher: Dispatcher = sharedAgent()) {
    this.#target = target;
    this.#sdk = sdk;
    this.#dispatcher = dispatcher;
    this.#url = target.origin + target.path;
  }

  /**
   * The 2xx answer, as a `Response`-shaped object whose body our readers take as a Node stream;
   * `undefined` for a redirect (the caller sends the request again through the SDK, which follows
   * it). A status of 400 or more is the SDK's `APIError` for it; a failure before the headers is
   * its `APIConnectionError` / `APIConnectionTimeoutError` / `APIUserAbortError`. Stopped by
   * `control` when there is one (its stop is registered before the request goes out), else by `signal`.
   */
  send(
    body: object,
    signal: AbortSignal | undefined,
    headersTimeoutMs: number,
    control: CallControl | undefined,
  ): Promise<Response | undefined> {
    const sdk = this.#sdk;
    const target = this.#target;
    const options: Dispatcher.RequestOptions = {
      origin: target.origin,
      path: target.path,
      method: "POST",
      headers: target.headers,
      body: JSON.stringify(body),
      headersTimeout: headersTimeoutMs,
    };
    if (control === undefined) {
      if (signal === undefined) return this.#answer(options, undefined, undefined);
      if (signal.aborted) return Promise.reject(new sdk.APIUserAbortError());
      options.signal = signal;
      return rejectedOnAbort(this.#answer(options, signal, undefined), signal, () => new sdk.APIUserAbortError());
    }
    // Under a CallControl the base stops the request through it (at once if it has stopped already),
    // without an AbortController made for every call. undici acts on an abort only once its request has
    // a connection (before, it notes it), so the stop also rejects at once: a stalled connect must not
    // hold the call until undici's connect timeout.
    return new Promise((resolve, reject) => {
      const stop = new RequestStop(() => reject(new sdk.APIUserAbortError()));
      control.onStop(() => stop.abort());
      if (stop.aborted) return;
      options.signal = stop as unknown as AbortSignal;
      this.#answer(options, stop, control).then(resolve, reject);
    });
  }

  #answer(
    options: Dispatcher.RequestOptions,
    stop: { readonly aborted: boolean } | undefined,
    control: CallControl | undefined,
  ): Promise<Response | undefined> {
    const sdk = this.#sdk;
    const url = this.#url;
    return this.#dispatcher.request(options).then(
      (answer) => {
        const status = answer.statusCode;
        if (status >= 200 && status < 300) return new UndiciResponse(url, answer) as never;
        if (status >= 300 && status < 400 && answer.headers.location !== undefined) {
          answer.body.resume();
          rememberRedirect(url);
          return undefined;
        }
        // The error body is read as the SDK reads it, but bounded; at the deadline or on abort the base stops it.
        control?.onStop(() => answer.body.destroy());
        return errorText(answer.body).then(
          (text) => {
            throw statusError(sdk, status, text, answer.headers);
          },
          () => {
            // A body cut mid-way reads, as through fetch, "terminated".
            throw statusError(sdk, status, "terminated", answer.headers);
          },
        );
      },
      (error: unknown) => {
        if (stop?.aborted) throw new sdk.APIUserAbortError();
        // What the SDK concludes from a failed fetch: a timeout by its words, else a connection error with the cause.
        const cause = new TypeError("fetch failed", { cause: error });
        if (/timed? ?out/i.test(`${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`))
          throw new sdk.APIConnectionTimeoutError();
        throw new sdk.APIConnectionError({ cause });
      },
    );
  }
}

/**
 * What undici needs of a signal to stop one request (`aborted`, `reason`, one abort listener),
 * without an AbortController and its EventTarget; `onAbort` runs after undici's listener.
 */
class RequestStop {
  aborted = false;
  readonly reason: undefined;
  #listener: (() => void) | undefined;
  readonly #onAbort: () => void;

  constructor(onAbort: () => void) {
    this.#onAbort = onAbort;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listener = listener;
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
    this.#onAbort();
  }
}

/** The most of an error body kept: an error message, never a stream of any length held in memory. */
export const MAX_ERROR_BODY_BYTES = 1024 * 1024;

/** An error response's body as text, its first `MAX_ERROR_BODY_BYTES` only (the rest is not read: the connection is closed). */
function errorText(body: Dispatcher.ResponseData["body"]): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    body.on("data", (part: Buffer) => {
      if (length >= MAX_ERROR_BODY_BYTES) return;
      parts.push(part);
      length += part.length;
      if (length >= MAX_ERROR_BODY_BYTES) {
        body.destroy();
        resolve(Buffer.concat(parts).subarray(0, MAX_ERROR_BODY_BYTES).toString("utf8"));
      }
    });
    body.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    body.on("error", reject);
  });
}

function statusError(
  sdk: OpenAISdk,
  status: number,
  text: string,
  headers: Record<string, string | string[] | undefined>,
): Error {
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return sdk.APIError.generate(
    status,
    json as object | undefined,
    json === undefined ? text || undefined : undefined,
    new ResponseHeaders(headers) as unknown as Headers,
  );
}

/**
 * What the SDK sends with every chat request, in its order: the JSON `accept`, the organization
 * and project, the key as a bearer token (`no-key` when there is none, as the SDK insists on
 * one), the model's own headers over those, then the body's JSON content type. Built through
 * WHATWG `Headers` as the SDK's are, so values are trimmed alike; `undefined` when a name or value
 * is one `Headers` refuses (the SDK then sends the request and reports it as it does).
 */
export function directHeaders(options: {
  apiKey: string;
  organization: string | undefined;
  project: string | undefined;
  defaultHeaders: Record<string, string> | undefined;
}): Record<string, string> | undefined {
  const built = new Headers();
  try {
    built.set("accept", "application/json");
    // Ours, not the SDK's: these requests are not the SDK's (a model's defaultHeaders may set another).
    built.set("user-agent", "orchestrator-ts (@orchestrator-ts/provider-openai)");
    if (options.organization !== undefined) built.set("openai-organization", options.organization);
    if (options.project !== undefined) built.set("openai-project", options.project);
    built.set("authorization", `Bearer ${options.apiKey}`);
    if (options.defaultHeaders !== undefined)
      for (const name of Object.keys(options.defaultHeaders)) built.set(name, options.defaultHeaders[name] as string);
    built.set("content-type", "application/json");
    // No content coding is asked for, so none needs decoding (as the transport under the SDK asks).
    built.set("accept-encoding", "identity");
  } catch {
    return undefined;
  }
  const headers: Record<string, string> = {};
  built.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/** `scheme://host:port` and the path of a base URL joined with `/chat/completions`; `undefined` for a URL this path does not take. */
export function directTarget(baseURL: string): { origin: string; path: string } | undefined {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return undefined;
  }
  // Credentials or a query in the base URL: the SDK's handling of those is its own.
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password || url.search || url.hash)
    return undefined;
  return { origin: url.origin, path: `${url.pathname.replace(/\/+$/, "")}/chat/completions` };
}
