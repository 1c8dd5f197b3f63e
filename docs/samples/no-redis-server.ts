// docs/troubleshooting.md: the tests' startRedisServer where no redis-server is on the PATH.
import { startRedisServer } from "@orchestrator-ts/testing";

const error = await startRedisServer().then(
  (server) => server.stop().then(() => undefined),
  (e: unknown) => e as Error,
);
console.log(error ? `${error.name}: ${error.message}` : "started");
