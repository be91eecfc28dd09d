/**
 * Runs `ansible-playbook` as a child process and reports its progress as typed events.
 * - argument array, never a shell; secret extra vars only through a 0600 file (`-e @file`);
 * - the child leads its own process group (`detached`), so on abort SIGINT goes to the whole group:
 *   signalling only the main pid leaves the running module orphaned (protocol §A.1.2);
 * - the outcome comes from the callback's events and final stats (see outcome.ts).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { InterruptedError, PreflightError, throwIfAborted } from '../errors.js';
import { Redactor } from '../util/redact.js';
import { ANSIBLE_INSTALL_HINT, ansibleEnv, ansiblePlaybookArgv, callbackPluginDir } from './argv.js';
import { PlaybookTracker, parseEventLine, type AnsibleEvent, type HostProblem, type HostStats } from './events.js';
import { judgeRun } from './outcome.js';
import { logLinesFor } from './run-log.js';
import { secretStrings, writeSecretVarsFile, type SecretVarsFile } from './secret-vars.js';

export type { AnsibleEvent } from './events.js';

export interface RunPlaybookOptions {
  cwd: string;
  playbook: string;
  inventory?: string | string[];
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars?: Record<string, unknown>;
  secretExtraVars?: Record<string, unknown>;
  check?: boolean;
  diff?: boolean;
  verbose?: boolean;
  /** Readable log written while the run goes (directories are created). */
  logFile?: string;
  signal?: AbortSignal;
  onEvent: (event: AnsibleEvent) => void;
  ansiblePlaybookBin?: string;
  /** Extra environment for the child (e.g. AWS settings for an EC2 inventory script). */
  env?: Record<string, string>;
  /** After SIGINT, how long to wait before SIGTERM/SIGKILL to the group. */
  interruptGraceMs?: number;
}

export interface AnsibleRunResult {
  exitCode: number;
  stats: Record<string, HostStats>;
  durationMs: number;
  /** `[WARNING]` lines from stderr (e.g. a host pattern that matched nothing). */
  warnings: string[];
  /** Failures on tasks with `ignore_errors: true`: not fatal, but worth showing. */
  ignoredFailures: HostProblem[];
}

export async function runPlaybook(opts: RunPlaybookOptions): Promise<AnsibleRunResult> {
  throwIfAborted(opts.signal);
  const started = Date.now();
  const redactor = new Redactor();
  for (const value of secretStrings(opts.secretExtraVars ?? {})) redactor.add(value);
  const scrub = (text: string): string => redactor.redact(text);

  const hasSecrets = opts.secretExtraVars !== undefined && Object.keys(opts.secretExtraVars).length > 0;
  let secretFile: SecretVarsFile | undefined;
  let log: WriteStream | undefined;
  try {
    if (hasSecrets) secretFile = await writeSecretVarsFile(opts.secretExtraVars ?? {});
    if (opts.logFile) {
      const logPath = isAbsolute(opts.logFile) ? opts.logFile : join(opts.cwd, opts.logFile);
      await mkdir(dirname(logPath), { recursive: true });
      log = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
      // A full disk must not crash the run; the log is a convenience, the events are the record.
      log.on('error', () => {
        log = undefined;
      });
    }
    const writeLog = (lines: string[]): void => {
      if (log && lines.length > 0) log.write(lines.map(scrub).join('\n') + '\n');
    };

    const argv = ansiblePlaybookArgv({
      playbook: opts.playbook,
      ...(opts.inventory !== undefined ? { inventory: opts.inventory } : {}),
      ...(opts.limit ? { limit: opts.limit } : {}),
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(opts.skipTags ? { skipTags: opts.skipTags } : {}),
      ...(opts.extraVars ? { extraVars: opts.extraVars } : {}),
      ...(secretFile ? { secretVarsFile: secretFile.path } : {}),
      check: opts.check === true,
      diff: opts.diff === true,
      verbose: opts.verbose === true,
    });
    const bin = opts.ansiblePlaybookBin ?? 'ansible-playbook';
    writeLog([`$ ${bin} ${argv.join(' ')}`, `# cwd: ${opts.cwd}`]);

    const { execa } = await import('execa');
    const child = execa(bin, argv, {
      cwd: opts.cwd,
      env: { ...ansibleEnv(callbackPluginDir()), ...opts.env },
      detached: true,
      stdin: 'ignore',
      buffer: false,
      reject: false,
    });

    const tracker = new PlaybookTracker(scrub);
    // A throwing listener must not tear down the stream reader mid-run; its error is rethrown at the end.
    let listenerError: unknown;
    const emit = (events: AnsibleEvent[]): void => {
      for (const event of events) {
        const problem =
          event.type === 'host' && event.status !== 'ok' && event.status !== 'changed' && event.status !== 'skipped'
            ? tracker.problems[tracker.problems.length - 1]
            : undefined;
        writeLog(logLinesFor(event, problem));
        try {
          opts.onEvent(event);
        } catch (error) {
          listenerError ??= error;
        }
      }
    };
    const stderrLines: string[] = [];
    const stdoutDone = readLines(child.stdout, (line) => {
      const raw = parseEventLine(line);
      if (raw) emit(tracker.push(raw));
      else if (line.trim() !== '') writeLog([line]);
    });
    const stderrDone = readLines(child.stderr, (line) => {
      stderrLines.push(scrub(line));
      if (stderrLines.length > 500) stderrLines.shift();
      writeLog([`stderr: ${line}`]);
    });

    // Abort: SIGINT to the whole group (like a terminal's Ctrl-C), then escalate if it does not stop.
    let interrupted = false;
    const timers: NodeJS.Timeout[] = [];
    const signalGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const onAbort = (): void => {
      interrupted = true;
      signalGroup('SIGINT');
      // ansible-playbook stops within a second of SIGINT, except when it lands between two tasks,
      // where a worker can swallow it: then SIGTERM after a short grace.
      const grace = opts.interruptGraceMs ?? 3_000;
      timers.push(setTimeout(() => signalGroup('SIGTERM'), grace));
      timers.push(setTimeout(() => signalGroup('SIGKILL'), grace + 5_000));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort(); // aborted while the child was being spawned
    // If iac itself is made to exit (a second Ctrl-C), the playbook's process group must not outlive it.
    const onExit = (): void => signalGroup('SIGKILL');
    process.once('exit', onExit);

    const result = await child.finally(() => process.off('exit', onExit));
    await Promise.all([stdoutDone, stderrDone]);
    opts.signal?.removeEventListener('abort', onAbort);
    for (const timer of timers) clearTimeout(timer);
    emit(tracker.finish());

    if (listenerError !== undefined) throw listenerError;
    if (result.failed && result.code === 'ENOENT') {
      throw new PreflightError('ansible.missing', `${bin} not found on PATH`, { hint: ANSIBLE_INSTALL_HINT });
    }
    // An abort that arrives after the final stats found nothing left to stop: judge the run as usual.
    if (interrupted && !tracker.stats) {
      // Workers can outlive the main process for a moment; nothing in the group may outlive us.
      if (child.pid !== undefined && !(await groupGone(child.pid, 3_000))) signalGroup('SIGKILL');
      writeLog(['', 'INTERRUPTED']);
      throw new InterruptedError(
        tracker.currentTask ? `ansible-playbook interrupted during task "${tracker.currentTask}"` : 'ansible-playbook interrupted',
        { hint: `re-run the playbook: ansible-playbook ${opts.playbook}` },
      );
    }
    if (result.signal) {
      // Killed from outside (OOM killer, someone's kill): not a verdict on the playbook.
      throw new InterruptedError(`ansible-playbook was killed by ${result.signal}`, {
        hint: `re-run the playbook: ansible-playbook ${opts.playbook}`,
      });
    }
    const exitCode = result.exitCode ?? -1;
    const error = judgeRun({
      playbook: opts.playbook,
      exitCode: result.exitCode,
      stats: tracker.stats,
      problems: tracker.problems,
      resultsSeen: tracker.resultsSeen,
      stderrLines,
    });
    if (error) {
      writeLog(['', `FAILED: ${error.message}`, ...error.details]);
      throw error;
    }
    return {
      exitCode,
      stats: tracker.stats ?? {},
      durationMs: Date.now() - started,
      warnings: stderrLines.filter((l) => l.startsWith('[WARNING]')),
      ignoredFailures: tracker.problems.filter((p) => p.ignored),
    };
  } finally {
    await secretFile?.remove();
    if (log) await closeStream(log);
  }
}

/** Polls until no process is left in the group (kill 0 → ESRCH); false when it is still there. */
async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function readLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): Promise<void> {
  if (!stream) return Promise.resolve();
  return new Promise((resolve) => {
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', onLine);
    rl.on('close', resolve);
  });
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(resolve));
}
