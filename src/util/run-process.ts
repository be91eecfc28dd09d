import { type ChildProcess, spawn } from 'node:child_process';

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
  return startProcess(file, args, options).finish(options);
}

export interface StartProcessOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  maxOutputBytes?: number;
  /** Pipes after stdin, stdout and stderr (fd 3, 4 …) — the caller reads or writes them. */
  extraPipes?: number;
  /** A pipe the caller writes (default: none, as if from /dev/null). */
  stdin?: 'pipe' | 'ignore';
}

export interface StartedProcess {
  readonly child: ChildProcess;
  /** Watches the process to its end from now: a deadline or an abort stops its whole group. */
  finish(options: Pick<RunProcessOptions, 'signal' | 'timeoutMs'>): Promise<ProcessResult>;
  /** Stops its group now (SIGTERM, SIGKILL after a grace period); finish() then resolves as aborted. */
  stop(): void;
}

/**
 * Starts a command and collects its output at once, to be watched later ({@link StartedProcess.finish}):
 * for a process started ahead of knowing whether it is needed (warm-start.ts).
 */
export function startProcess(file: string, args: readonly string[], options: StartProcessOptions): StartedProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => running.forEach((pid) => killGroup(pid, 'SIGKILL')));
  }
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  const stdio: ('pipe' | 'ignore')[] = [options.stdin ?? 'ignore', 'pipe', 'pipe', ...Array<'pipe'>(options.extraPipes ?? 0).fill('pipe')];
  const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio, detached: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (outBytes < max) out.push(chunk);
    outBytes += chunk.length;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
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
  if (child.pid !== undefined) running.add(child.pid);
  // Settled from the start, so an early end (or a failed start) is not missed before finish() is called.
  const ended = new Promise<{ code: number | null } | { error: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ error }));
    child.once('close', (code) => resolve({ code }));
  });
  void ended.then(() => {
    if (killTimer) clearTimeout(killTimer);
    if (child.pid !== undefined) running.delete(child.pid);
  });
  const finish = async (watch: Pick<RunProcessOptions, 'signal' | 'timeoutMs'>): Promise<ProcessResult> => {
    const deadline = watch.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), stop()), watch.timeoutMs) : undefined;
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (watch.signal?.aborted) onAbort();
    watch.signal?.addEventListener('abort', onAbort, { once: true });
    const end = await ended;
    if (deadline) clearTimeout(deadline);
    watch.signal?.removeEventListener('abort', onAbort);
    if ('error' in end) throw new SpawnError(file, end.error.code);
    // The group may hold helpers (git-remote-http) that outlived the leader after a kill: stop them too.
    if ((timedOut || aborted) && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    return {
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
      exitCode: end.code,
      timedOut,
      aborted,
    };
  };
  return {
    child,
    finish,
    stop: () => {
      aborted = true;
      stop();
    },
  };
}
