import { spawn } from 'node:child_process';

/**
 * The one way iac runs a short external command (git, `ansible-playbook --version`): an argument
 * array, never a shell; its own process group, so a deadline or Ctrl-C stops the command *and*
 * whatever it started (git-remote-http, ssh) — no orphans; bounded output; no waiting beyond the
 * process's own exit.
 */

export interface RunProcessOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Kill the whole process group after this long; the result then has `timedOut`. */
  timeoutMs?: number;
  /** Output beyond this many bytes per stream is dropped (the command still runs to its end). */
  maxOutputBytes?: number;
}

export interface ProcessResult {
  stdout: string;
  stderr: string;
  /** null when the process was killed by a signal. */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
}

/** The command could not be started at all (not installed, not executable). */
export class SpawnError extends Error {
  constructor(
    readonly file: string,
    readonly code: string | undefined,
  ) {
    super(`cannot run ${file}: ${code ?? 'unknown error'}`);
    this.name = 'SpawnError';
  }
}

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
/** After SIGTERM, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 1500;

/** Process groups still running, stopped if iac exits first (a normal exit, not SIGKILL). */
const running = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function runProcess(file: string, args: readonly string[], options: RunProcessOptions): Promise<ProcessResult> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => running.forEach((pid) => killGroup(pid, 'SIGKILL')));
  }
  return new Promise((resolve, reject) => {
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes < max) out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes < max) err.push(chunk);
      errBytes += chunk.length;
    });
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const deadline = options.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), stop()), options.timeoutMs) : undefined;
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) running.add(child.pid);

    const cleanup = (): void => {
      if (deadline) clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) running.delete(child.pid);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      reject(new SpawnError(file, error.code));
    });
    child.once('close', (code) => {
      // The group may hold helpers (git-remote-http) that outlived the leader after a kill: stop them too.
      if ((timedOut || aborted) && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      cleanup();
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: code,
        timedOut,
        aborted,
      });
    });
  });
}
