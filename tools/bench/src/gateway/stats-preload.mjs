// Loaded with `node --import` into every server process of the gateway benchmark (ours and
// Portkey's alike): reports the first port the process listens on, and answers the parent's
// stats requests with its own CPU time and RSS, over the IPC channel — and with where some of that
// CPU went: time in garbage collection, and how many reads its upstream sockets took.
import net from "node:net";
import { PerformanceObserver } from "node:perf_hooks";

const listen = net.Server.prototype.listen;
let reported = false;
net.Server.prototype.listen = function (...args) {
  this.once("listening", () => {
    const address = this.address();
    if (reported || !process.send || typeof address !== "object" || address === null) return;
    reported = true;
    process.send({ type: "listening", port: address.port });
  });
  return listen.apply(this, args);
};

// Time in garbage collection (every kind), from the GC entries V8 reports: one entry per collection.
let gcUs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcUs += entry.duration * 1000;
}).observe({ entryTypes: ["gc"] });

// Reads taken from client sockets: a server's reads of its upstream's answers (an HTTP server's own
// sockets are read by its native parser and never pass here). The minimal proxy forwards each read
// as it comes; a gateway that parses pays per event as well, so the two costs are told apart.
let reads = 0;
const push = net.Socket.prototype.push;
net.Socket.prototype.push = function (chunk, encoding) {
  if (chunk !== null && chunk !== undefined) reads++;
  return push.call(this, chunk, encoding);
};

process.on("message", async (message) => {
  if (message?.type !== "stats") return;
  // With --expose-gc the parent can ask for a settled reading, so RSS is compared like for like:
  // collect, give the allocator and the sockets a second to hand pages back, collect again. A
  // reading taken right after a load holds freed-but-not-returned pages — 30–80 MB at 200,000
  // requests, in every contender — which a second reading moments later no longer shows.
  if (message.gc && typeof globalThis.gc === "function") {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    globalThis.gc();
    globalThis.gc();
  }
  const cpu = process.cpuUsage();
  process.send({
    type: "stats",
    id: message.id,
    cpuUs: cpu.user + cpu.system,
    rssBytes: process.memoryUsage().rss,
    gcUs,
    reads,
  });
});
// The IPC channel alone must not keep a server alive after the parent is gone.
process.on("disconnect", () => process.exit(0));
