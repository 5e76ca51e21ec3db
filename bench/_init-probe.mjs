// Runs in a fresh Node process (plain `node`, no loader): imports a handler bundle and reports how long
// that took (wall and CPU), then, when asked, the first invocation (which builds the handler's
// dependencies) and a second one. One JSON line on stdout. Used by bench/bundle.ts.
const started = performance.now();
const cpuStart = process.cpuUsage();
const mod = await import(process.argv[2]);
const importMs = performance.now() - started;
const cpu = process.cpuUsage(cpuStart);
const out = {
  importMs,
  importCpuMs: (cpu.user + cpu.system) / 1000,
  readyMs: performance.now(),
  exported: typeof mod.handler === "function",
};
if (process.env.VEIL_PROBE_EVENT) {
  const event = JSON.parse(process.env.VEIL_PROBE_EVENT);
  const context = { awsRequestId: "probe", getRemainingTimeInMillis: () => 10_000 };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const first = await mod.handler(event, context);
  out.firstInvokeMs = performance.now() - t0;
  const cpu1 = process.cpuUsage(cpu0);
  out.firstInvokeCpuMs = (cpu1.user + cpu1.system) / 1000;
  out.firstStatus = first?.statusCode;
  const t1 = performance.now();
  await mod.handler(event, context);
  out.secondInvokeMs = performance.now() - t1;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
