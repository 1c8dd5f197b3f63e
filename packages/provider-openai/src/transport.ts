import { createRequire } from "node:module";
import { NODE_BODY } from "@orchestrator-ts/openai-format";
import type { Agent, Dispatcher } from "undici";

/**
 * The `fetch` the `openai` SDK is given when the user passes none: the same HTTP/1.1 client that
 * Node's own `fetch` is built on (undici), called through its `request` API. The SDK still builds,
 * authenticates, sends, retries and maps every request; only the layer underneath is thinner.
 * Node's `fetch` wraps each call in the WHATWG Request/Response/stream machinery: it clones the
 * request, tees the body into web streams and writes it through an async iterator. Measured
 * through `orchestrator serve` against a loopback upstream, that machinery was the largest part
 * of the gateway's CPU per request after the socket writes themselves.
 *
 * The answer is a `Response`-shaped object: status, headers, `text()`, `json()`, `arrayBuffer()`
 * and a web `body` made on demand (for the SDK's own parsers and for user code that reads it);
 * our readers (`readJsonBody`, `SSEJsonStream`) take the Node stream under `NODE_BODY` instead.
 * Failures look like `fetch`'s: a `TypeError("fetch failed")` with the cause before the answer, a
 * `TypeError("terminated")` with the cause when the body is cut, an `AbortError` on abort.
 * undici is loaded when the first model needs it, not when this package is imported, and it leaves
 * the application's fetch alone: importing undici installs its own `Agent` as Node's global
 * dispatcher when none is set yet, which would put every `fetch` of the process on our copy of undici.
 */
export function undiciFetch(dispatcher: Dispatcher = sharedAgent()): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const body = init?.body;
    if (
      (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) ||
      userDispatcher() ||
      (REDIRECTING.size > 0 && REDIRECTING.has(url))
    ) {
      // Streams, forms and blobs: Node's fetch knows them all (the SDK sends JSON strings for chat).
      // A dispatcher the application installed (a proxy) is honoured by Node's fetch, not by our pool.
      return fetch(input, init);
    }
    const answered = dispatcher
      .request({
        origin: originOf(url),
        path: pathOf(url),
        method: (init?.method ?? "GET") as Dispatcher.HttpMethod,
        headers: requestHeaders(init?.headers),
        body: body ?? null,
        ...(signal ? { signal } : {}),
      })
      .then(
        (answer) => {
          // Node's fetch follows redirects; so does this, through it (the body is a string: it can be sent again).
          if (answer.statusCode >= 300 && answer.statusCode < 400 && answer.headers.location !== undefined) {
            answer.body.resume();
            rememberRedirect(url);
            return fetch(input, init);
          }
          return new UndiciResponse(url, answer) as unknown as Response;
        },
        (error: unknown) => {
          if (signal?.aborted) throw abortReason(signal);
          throw new TypeError("fetch failed", { cause: error });
        },
      );
    return signal ? rejectedOnAbort(answered, signal, () => abortReason(signal)) : answered;
  }) as typeof fetch;
}

/**
 * `answered`, or `reason()` as soon as `signal` aborts, as fetch does: undici acts on an abort only
 * once its request has a connection (before, it notes it), so a connect that stalls would hold the
 * call until undici's connect timeout. Also for the direct path's requests under a caller's signal.
 */
export function rejectedOnAbort<T>(answered: Promise<T>, signal: AbortSignal, reason: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener("abort", onAbort, { once: true });
    answered.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

// URLs that answered with a redirect: their later requests go to Node's fetch straight away, which
// follows it (two requests each, not a first one here and then those two). A base URL that
// redirects does so on every call; bounded, so that no run of distinct URLs grows it without end.
const REDIRECTING = new Set<string>();
const MAX_REDIRECTING = 256;

/** Notes that `url` redirects (also told by the direct path, which hands a redirect to the SDK and so to this fetch). */
export function rememberRedirect(url: string): void {
  if (REDIRECTING.size >= MAX_REDIRECTING) REDIRECTING.clear();
  REDIRECTING.add(url);
}

const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");
/** A dispatcher set with undici's `setGlobalDispatcher` (a `ProxyAgent`…), not the default `Agent`: only fetch honours it. */
export function userDispatcher(): boolean {
  const installed = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  return installed !== undefined && (installed as object).constructor?.name !== "Agent";
}

let agent: Agent | undefined;
/** One connection pool per process, as Node's global dispatcher is for `fetch`. */
export function sharedAgent(): Agent {
  agent ??= new (loadUndici().Agent)({ keepAliveTimeout: 4_000 });
  return agent;
}

/**
 * undici, required on first use. Its entry point sets `globalThis[Symbol.for("undici.globalDispatcher.1")]`
 * to a new `Agent` when nothing is there yet; Node's own fetch then uses that copy of undici instead of its
 * built-in one. Put back what was there (nothing: Node's fetch installs its own on its first call).
 */
function loadUndici(): typeof import("undici") {
  const slot = globalThis as Record<symbol, unknown>;
  const before = slot[GLOBAL_DISPATCHER];
  // The CommonJS build requires it literally, which bundlers follow (they cannot see through createRequire).
  const undici = (
    typeof __ORCHESTRATOR_CJS__ === "boolean" && __ORCHESTRATOR_CJS__
      ? require("undici")
      : import.meta.url
        ? createRequire(import.meta.url)("undici")
        : // The ES module build bundled into a CommonJS file (esbuild leaves import.meta empty there): the bundle's require.
          require("undici")
  ) as typeof import("undici");
  // undici defines the slot writable but not configurable: it can be reset, not deleted.
  if (before === undefined) slot[GLOBAL_DISPATCHER] = undefined;
  return undici;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

function originOf(url: string): string {
  // "http://host:port/path" → "http://host:port": cheaper than new URL() on the hot path.
  const start = url.indexOf("//");
  const slash = start < 0 ? -1 : url.indexOf("/", start + 2);
  return slash < 0 ? url : url.slice(0, slash);
}

function pathOf(url: string): string {
  const start = url.indexOf("//");
  const slash = start < 0 ? -1 : url.indexOf("/", start + 2);
  return slash < 0 ? "/" : url.slice(slash);
}

function requestHeaders(headers: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  copyHeaders(headers, out);
  // No content coding is asked for, so none needs decoding (fetch would ask for gzip and inflate it).
  out["accept-encoding"] = "identity";
  return out;
}

function copyHeaders(headers: RequestInit["headers"], out: Record<string, string>): void {
  if (headers === undefined) return;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => {
      out[name] = value;
    });
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers as [string, string][]) out[name.toLowerCase()] = value;
  } else {
    for (const name of Object.keys(headers))
      out[name.toLowerCase()] = (headers as Record<string, string>)[name] as string;
  }
}

type BodyReadable = Dispatcher.ResponseData["body"];

/** The parts of `Response` the SDK and our readers use, over undici's answer. */
export class UndiciResponse {
  readonly url: string;
  readonly status: number;
  readonly statusText = "";
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = "basic";
  readonly headers: Headers;
  readonly [NODE_BODY]: BodyReadable;
  #web: ReadableStream<Uint8Array> | undefined;

  constructor(url: string, answer: Dispatcher.ResponseData) {
    this.url = url;
    this.status = answer.statusCode;
    this.ok = answer.statusCode >= 200 && answer.statusCode < 300;
    this.headers = new ResponseHeaders(answer.headers) as unknown as Headers;
    this[NODE_BODY] = answer.body;
  }

  get bodyUsed(): boolean {
    return this[NODE_BODY].bodyUsed;
  }

  /** A web stream over the body, for code that reads a `Response` the standard way. */
  get body(): ReadableStream<Uint8Array> {
    if (this.#web === undefined) {
      const iterator = this[NODE_BODY][Symbol.asyncIterator]();
      this.#web = new ReadableStream<Uint8Array>({
        pull: (controller) =>
          iterator.next().then(
            (result) => {
              if (result.done) controller.close();
              else controller.enqueue(new Uint8Array(result.value as Buffer));
            },
            (error: unknown) => controller.error(new TypeError("terminated", { cause: error })),
          ),
        cancel: () => {
          this[NODE_BODY].destroy();
        },
      });
    }
    return this.#web;
  }

  text(): Promise<string> {
    return this[NODE_BODY].text().catch(terminated);
  }

  json(): Promise<unknown> {
    return this[NODE_BODY].json().catch(terminated);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this[NODE_BODY].arrayBuffer().catch(terminated);
  }
}

function terminated(error: unknown): never {
  if (error instanceof SyntaxError) throw error;
  throw new TypeError("terminated", { cause: error });
}

/** Read-only response headers over undici's lower-cased header record (`Headers` validates every entry). */
export class ResponseHeaders {
  readonly #record: Record<string, string | string[] | undefined>;
  constructor(record: Record<string, string | string[] | undefined>) {
    this.#record = record;
  }
  get(name: string): string | null {
    const value = this.#record[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  }
  has(name: string): boolean {
    return this.#record[name.toLowerCase()] !== undefined;
  }
  forEach(callback: (value: string, name: string, headers: ResponseHeaders) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this);
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#record).sort()) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  getSetCookie(): string[] {
    const value = this.#record["set-cookie"];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
}
