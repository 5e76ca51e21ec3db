// Runs in a fresh Node process (plain `node`, no loader) for bench/bundle.ts: imports a handler bundle,
// then, with VEIL_PROBE_EVENT, invokes it once. "Ready" is the start of the import until that first
// invocation has answered (it builds the handler's dependencies). Prints one JSON line: import and
// ready times, wall and CPU, and the first answer's status.
const started = performance.now();
const cpuStart = process.cpuUsage();
const mod = await import(process.argv[2]);
const importMs = performance.now() - started;
const importCpu = process.cpuUsage(cpuStart);
const out = {
  importMs,
  importCpuMs: (importCpu.user + importCpu.system) / 1000,
  exported: typeof mod.handler === "function",
};
if (process.env.VEIL_PROBE_EVENT) {
  const event = JSON.parse(process.env.VEIL_PROBE_EVENT);
  const context = { awsRequestId: "probe", getRemainingTimeInMillis: () => 10_000 };
  const first = await mod.handler(event, context);
  const readyCpu = process.cpuUsage(cpuStart);
  out.readyMs = performance.now() - started;
  out.readyCpuMs = (readyCpu.user + readyCpu.system) / 1000;
  out.firstStatus = first?.statusCode;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
