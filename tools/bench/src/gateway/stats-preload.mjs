// Loaded with `node --import` into every server process of the gateway benchmark (ours and
// Portkey's alike): reports the first port the process listens on, and answers the parent's
// stats requests with its own CPU time and RSS, over the IPC channel.
import net from "node:net";

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
  process.send({ type: "stats", id: message.id, cpuUs: cpu.user + cpu.system, rssBytes: process.memoryUsage().rss });
});
// The IPC channel alone must not keep a server alive after the parent is gone.
process.on("disconnect", () => process.exit(0));
