// Runs in a fresh Node process (plain `node`, no loader) for bench/bundle.ts and bench/aws-clients.ts:
// imports a handler bundle, then, with VEIL_PROBE_EVENT, invokes it twice. "Ready" is the start of the
// import until the first invocation has answered (it builds the handler's dependencies). Prints one JSON
// line: import, ready and per-invocation times, wall and CPU, and the first answer's status.
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
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const first = await mod.handler(event, context);
  const firstCpu = process.cpuUsage(cpu0);
  const readyCpu = process.cpuUsage(cpuStart);
  out.firstInvokeMs = performance.now() - t0;
  out.firstInvokeCpuMs = (firstCpu.user + firstCpu.system) / 1000;
  out.readyMs = performance.now() - started;
  out.readyCpuMs = (readyCpu.user + readyCpu.system) / 1000;
  out.firstStatus = first?.statusCode;
  const t1 = performance.now();
  await mod.handler(event, context);
  out.secondInvokeMs = performance.now() - t1;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
