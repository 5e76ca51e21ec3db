/**
 * CPU time of this process and all its descendants, by role, from /proc (Linux): what each part of
 * the local stack spent while the load ran. Empty where /proc is missing.
 */
import { readdirSync, readFileSync } from "node:fs";

const ticksPerSecond = 100; // USER_HZ on Linux

interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly cpuMs: number;
  readonly command: string;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    return { pid, ppid: Number(fields[1]), cpuMs: ((utime + stime) * 1000) / ticksPerSecond, command };
  } catch {
    return undefined;
  }
}

/** CPU milliseconds so far of `root` and its descendants, summed by `roleOf(command)`. */
export function cpuByRole(
  root: number,
  roleOf: (command: string, pid: number) => string,
): Map<string, number> {
  const all = new Map<number, ProcInfo>();
  let pids: number[] = [];
  try {
    pids = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return new Map();
  }
  for (const pid of pids) {
    const info = readProc(pid);
    if (info) all.set(pid, info);
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === root) return true;
      const parent = all.get(p)?.ppid;
      if (parent === undefined) return false;
      p = parent;
    }
    return false;
  };
  const out = new Map<string, number>();
  for (const info of all.values()) {
    if (!inTree(info.pid)) continue;
    const role = roleOf(info.command, info.pid);
    out.set(role, (out.get(role) ?? 0) + info.cpuMs);
  }
  return out;
}
