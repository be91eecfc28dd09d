import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  pgid: number;
  /** R, S, D, Z (zombie: exited, waiting to be reaped) … */
  state: string;
  cmdline: string;
}

/** Every live process on this machine, read from /proc (cmdline NUL bytes turned into spaces). */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the ")" that closes the command name: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), state: fields[0] ?? '', pgid: Number(fields[2]), cmdline });
    } catch {
      // the process exited while we were reading
    }
  }
  return out;
}

export function processesMatching(text: string): ProcInfo[] {
  return listProcesses().filter((p) => p.cmdline.includes(text) && p.pid !== process.pid);
}

export async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
