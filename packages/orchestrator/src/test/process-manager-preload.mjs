// Loaded with NODE_OPTIONS=--import into `orchestrator serve` by a test: listens on the IPC channel as
// a process manager's container does (PM2's fork mode), which keeps the channel, and so the event
// loop, alive after the server has closed.
process.on("message", () => {});
