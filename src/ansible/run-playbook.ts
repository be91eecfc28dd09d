/**
 * Runs `ansible-playbook` as a child process and reports its progress as typed events.
 * - stdout is Ansible's own human output (the user's stdout callback, the default one unless configured):
 *   it goes to the run log and, as `output` events, to whoever shows it; the shipped `iac_events` callback
 *   sends structured events over a private socket (fd 3); totals are Ansible's own stats;
 * - the child leads its own process group (`detached`), so on abort SIGINT goes to the whole group:
 *   signalling only the main pid leaves the running module orphaned (protocol §A.1.2); if iac dies by any
 *   signal, SIGKILL included, the callback sees its lifeline (fd 4) close and kills the group;
 * - argument array, never a shell; secret extra vars only through an anonymous pipe (secret-vars.ts);
 *   the child's environment carries no secret it does not need (child-env.ts);
 * - the outcome comes from the callback's events and final stats (see outcome.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { InterruptedError, PreflightError, UsageError, throwIfAborted } from '../errors.js';
import { finishInBackground } from '../util/background.js';
import { Redactor, SECRET_NAME } from '../util/redact.js';
import { ANSIBLE_INSTALL_HINT, ansibleEnv, ansiblePlaybookArgv, callbackPluginDir, commandLine, CONTROL_FD, EVENTS_FD } from './argv.js';
import { childEnvironment } from './child-env.js';
import { PlaybookTracker, parseEventLine, sumStats, type AnsibleEvent, type HostProblem, type HostStats } from './events.js';
import { interpreterOf, requireAnsible } from './executable.js';
import { LineSplitter, terminalSafe } from './lines.js';
import { judgeRun, type OutcomeHints } from './outcome.js';
import { MAX_SECRET_BYTES, SECRET_PATH_PLACEHOLDER, SECRET_WRAPPER, secretStrings } from './secret-vars.js';

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
  /** Readable log written while the run goes (directories are created): Ansible's own output. */
  logFile?: string;
  /** Lines written at the top of the log (e.g. which commit the playbook comes from). */
  logHeader?: string[];
  signal?: AbortSignal;
  onEvent: (event: AnsibleEvent) => void;
  ansiblePlaybookBin?: string;
  /** The environment the child starts from (default process.env); secrets are removed from it. */
  env?: NodeJS.ProcessEnv;
  /** Variables never passed on although their names look harmless (those behind secret extra vars). */
  dropEnv?: string[];
  /** Redacts every secret iac knows of (the output's redactor); secret extra vars are always added. */
  redact?: (text: string) => string;
  /** After SIGINT, how long to wait before SIGTERM/SIGKILL to the group. */
  interruptGraceMs?: number;
  /**
   * Start now, run later: the shipped callback holds the playbook at its start (loaded, nothing run)
   * until this resolves; if it rejects, the playbook's process group is killed before any task ran.
   * Python's and Ansible's start-up then hide behind whatever the run does meanwhile (the Jenkins build).
   */
  hold?: Promise<void>;
  /**
   * Return as soon as Ansible's final stats show every host clean, leaving the process to exit (and the
   * log to be completed) in the background — for a caller with more work to do meanwhile (the rollout).
   */
  endAtCleanStats?: boolean;
}

export interface AnsibleRunResult {
  exitCode: number;
  /** Ansible's own PLAY RECAP numbers per host. */
  stats: Record<string, HostStats>;
  /** Their sum over hosts. */
  totals: HostStats;
  /** Tasks and handlers that started. */
  tasks: number;
  durationMs: number;
  /** `[WARNING]` lines from stderr (e.g. a host pattern that matched nothing). */
  warnings: string[];
  /** Failures on tasks with `ignore_errors: true`: not fatal, but worth showing. */
  ignoredFailures: HostProblem[];
  /** Commands to re-run against the same target (the playbook; a ping of the inventory). */
  hints: OutcomeHints;
}

/** Events can carry a whole module result; lines longer than this are dropped, not parsed. */
const MAX_EVENT_BYTES = 8 * 1024 * 1024;
/** After the main process exits, how long its output streams may take to drain. */
const DRAIN_MS = 5_000;
/** After clean final stats, how long to wait for the process to exit before going on without it. */
const EARLY_END_GRACE_MS = 60;

export async function runPlaybook(opts: RunPlaybookOptions): Promise<AnsibleRunResult> {
  throwIfAborted(opts.signal);
  const started = Date.now();
  const baseEnv = opts.env ?? process.env;
  const bin = await requireAnsible(opts.ansiblePlaybookBin ?? 'ansible-playbook', baseEnv);
  const redactor = new Redactor();
  const secretVars = opts.secretExtraVars ?? {};
  for (const value of secretStrings(secretVars)) redactor.add(value);
  // Whatever the caller's redactor knows, the values of secret-looking variables are masked here too.
  for (const [name, value] of Object.entries(baseEnv)) if (SECRET_NAME.test(name)) redactor.add(value);
  const scrub = (text: string): string => terminalSafe(redactor.redact(opts.redact ? opts.redact(text) : text));

  const secretNames = Object.keys(secretVars);
  const secretJson = secretNames.length > 0 ? `${JSON.stringify(secretVars)}\n` : undefined;
  if (secretJson !== undefined && Buffer.byteLength(secretJson) > MAX_SECRET_BYTES) {
    throw new UsageError('ansible.secrets-too-large', `secret extra vars are ${Buffer.byteLength(secretJson)} bytes; at most ${MAX_SECRET_BYTES} can be passed`, {
      hint: 'keep large secrets in files the playbook reads (e.g. ansible-vault), and pass only their passwords',
    });
  }

  const common = {
    playbook: opts.playbook,
    ...(opts.inventory !== undefined ? { inventory: opts.inventory } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
    ...(opts.tags ? { tags: opts.tags } : {}),
    ...(opts.skipTags ? { skipTags: opts.skipTags } : {}),
    ...(opts.extraVars ? { extraVars: opts.extraVars } : {}),
    check: opts.check === true,
    diff: opts.diff === true,
  };
  const argv = ansiblePlaybookArgv({ ...common, ...(secretJson !== undefined ? { secretVarsPath: SECRET_PATH_PLACEHOLDER } : {}) });
  const hints = runHints(opts, common, secretNames);

  let log: WriteStream | undefined;
  const writeLog = (lines: string[]): void => {
    if (log && lines.length > 0) log.write(`${lines.map(scrub).join('\n')}\n`);
  };
  let child: ChildProcess | undefined;
  let secretDir: string | undefined;
  let detachedCleanup: Promise<void> | undefined;
  const onExit = (): void => signalGroup(child, 'SIGKILL');
  try {
    if (opts.logFile) {
      const logPath = isAbsolute(opts.logFile) ? opts.logFile : join(opts.cwd, opts.logFile);
      await mkdir(dirname(logPath), { recursive: true });
      log = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
      // A full disk must not crash the run; the log is a convenience, the events are the record.
      log.on('error', () => {
        log = undefined;
      });
    }
    writeLog([
      `$ ${hints.rerun}`,
      ...(opts.logHeader ?? []).map((line) => `# ${line}`),
      ...(secretNames.length > 0 ? [`# secret extra vars ${secretNames.join(', ')} passed through a named pipe (-e @<fifo>), never stored`] : []),
      '',
    ]);

    if (secretJson !== undefined) secretDir = await mkdtemp(join(tmpdir(), 'iac-secret-'));
    const env = {
      ...childEnvironment(baseEnv, { drop: opts.dropEnv ?? [] }),
      ...ansibleEnv(callbackPluginDir(), baseEnv.ANSIBLE_CALLBACK_PLUGINS),
      ...(secretDir !== undefined ? { IAC_SECRET_DIR: secretDir } : {}),
      ...(opts.hold !== undefined ? { IAC_HOLD: '1' } : {}),
    };
    const command = secretDir !== undefined ? [...(await interpreterOf(bin)), '-c', SECRET_WRAPPER, secretDir, bin, ...argv] : [bin, ...argv];
    throwIfAborted(opts.signal);
    child = spawn(command[0] as string, command.slice(1), {
      cwd: opts.cwd,
      env,
      detached: true,
      stdio: [secretJson !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    // If iac itself is made to exit (a second Ctrl-C), the playbook's process group must not outlive it.
    process.once('exit', onExit);
    const spawnError = new Promise<Error>((resolve) => child?.once('error', resolve));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child?.once('exit', (code, signal) => resolve({ code, signal })),
    );
    if (secretJson !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the wrapper died first: its exit code tells why
      child.stdin.end(secretJson);
    }
    // The lifeline: iac holds its end open and never writes; the callback reads end-of-file when iac is gone.
    // A socket pair (extra stdio 'pipe'): iac can also write to it ("go", for a held playbook).
    const lifeline = child.stdio[CONTROL_FD] as Duplex | null;
    lifeline?.on('error', () => undefined);
    lifeline?.on('data', () => undefined);
    opts.hold?.then(
      () => lifeline?.write('go\n'),
      () => {
        // Cancelled before it ran anything: the group goes at once (the callback would kill it on EOF too).
        signalGroup(child, 'SIGKILL');
        lifeline?.destroy();
      },
    );

    const tracker = new PlaybookTracker(scrub);
    // Ansible's own stats end the run's story: with every host clean, the outcome is known and the
    // process's exit (Python tearing down, ~0.2 s) need not hold up the next step.
    let statsClean!: () => void;
    const cleanStatsSeen = new Promise<void>((resolve) => (statsClean = resolve));
    // A throwing listener must not tear down the stream reader mid-run; its error is rethrown at the end.
    let listenerError: unknown;
    const emit = (events: AnsibleEvent[]): void => {
      for (const event of events) {
        // Clean means at least one host and none failed or unreachable; anything else waits for the exit code.
        const hosts = event.type === 'stats' ? Object.values(event.hosts) : [];
        if (hosts.length > 0 && hosts.every((h) => h.failures === 0 && h.unreachable === 0)) statsClean();
        try {
          opts.onEvent(event);
        } catch (error) {
          listenerError ??= error;
        }
      }
    };
    const stderrLines: string[] = [];
    const eventsDone = readLines(child.stdio[EVENTS_FD] as Readable | null, MAX_EVENT_BYTES, (line) => {
      const raw = parseEventLine(line);
      if (raw) emit(tracker.push(raw));
    });
    const stdoutDone = readLines(child.stdout, undefined, (line) => {
      const text = scrub(line);
      writeLog([text]);
      emit([{ type: 'output', stream: 'stdout', line: text }]);
    });
    const stderrDone = readLines(child.stderr, undefined, (line) => {
      const text = scrub(line);
      stderrLines.push(text);
      if (stderrLines.length > 500) stderrLines.shift();
      writeLog([text]);
      emit([{ type: 'output', stream: 'stderr', line: text }]);
    });

    // Abort: SIGINT to the whole group (like a terminal's Ctrl-C), then escalate if it does not stop.
    let interrupted = false;
    const timers: NodeJS.Timeout[] = [];
    const onAbort = (): void => {
      interrupted = true;
      signalGroup(child, 'SIGINT');
      // ansible-playbook stops within a second of SIGINT, except when it lands between two tasks,
      // where a worker can swallow it: then SIGTERM after a short grace.
      const grace = opts.interruptGraceMs ?? 3_000;
      timers.push(setTimeout(() => signalGroup(child, 'SIGTERM'), grace));
      timers.push(setTimeout(() => signalGroup(child, 'SIGKILL'), grace + 5_000));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort(); // aborted while the child was being spawned

    const finishedEarly = (opts.endAtCleanStats ? cleanStatsSeen : new Promise<never>(() => undefined)).then(async () => {
      // The recap lines follow the stats on stdout: give them a moment, then go on if still exiting.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, EARLY_END_GRACE_MS))]);
      return 'stats' as const;
    });
    const outcome = (exitCode: number): AnsibleRunResult => {
      const stats = tracker.stats ?? {};
      return {
        exitCode,
        stats,
        totals: sumStats(stats),
        tasks: tracker.tasksStarted,
        durationMs: Date.now() - started,
        warnings: stderrLines.filter((l) => l.startsWith('[WARNING]')),
        ignoredFailures: tracker.problems.filter((p) => p.ignored),
        hints,
      };
    };
    const ended = await Promise.race([exited, spawnError, finishedEarly]);
    if (ended === 'stats') {
      detachedCleanup = exited.then(async () => {
        await drain([eventsDone, stdoutDone, stderrDone], [child?.stdout, child?.stderr, child?.stdio[EVENTS_FD] as Readable | null]);
        lifeline?.destroy();
      });
      opts.signal?.removeEventListener('abort', onAbort);
      for (const timer of timers) clearTimeout(timer);
      emit(tracker.finish());
      if (listenerError !== undefined) throw listenerError;
      return outcome(0);
    }
    if (ended instanceof Error) {
      lifeline?.destroy();
      throw new PreflightError('ansible.missing', `cannot start ${command[0] ?? bin}: ${ended.message}`, { hint: ANSIBLE_INSTALL_HINT });
    }
    // Workers can outlive the main process for a moment; after an interruption nothing may stay behind.
    if (interrupted && child.pid !== undefined && !(await groupGone(child.pid, 3_000))) signalGroup(child, 'SIGKILL');
    await drain([eventsDone, stdoutDone, stderrDone], [child.stdout, child.stderr, child.stdio[EVENTS_FD] as Readable | null]);
    lifeline?.destroy();
    opts.signal?.removeEventListener('abort', onAbort);
    for (const timer of timers) clearTimeout(timer);
    emit(tracker.finish());

    if (listenerError !== undefined) throw listenerError;
    if (ended.code === 127 && secretJson !== undefined && stderrLines.some((l) => l.startsWith('iac: cannot run'))) {
      throw new PreflightError('ansible.missing', stderrLines.find((l) => l.startsWith('iac: cannot run'))?.slice(5) ?? `cannot run ${bin}`, { hint: ANSIBLE_INSTALL_HINT });
    }
    // An abort that arrives after the final stats found nothing left to stop: judge the run as usual.
    if (interrupted && !tracker.stats) {
      writeLog(['', 'INTERRUPTED']);
      throw new InterruptedError(
        tracker.currentTask ? `ansible-playbook interrupted during task "${tracker.currentTask}"` : 'ansible-playbook interrupted',
        { hint: hints.rerun },
      );
    }
    if (ended.signal) {
      // Killed from outside (OOM killer, someone's kill): not a verdict on the playbook.
      throw new InterruptedError(`ansible-playbook was killed by ${ended.signal}`, { hint: hints.rerun });
    }
    const exitCode = ended.code ?? -1;
    const error = judgeRun({
      playbook: opts.playbook,
      exitCode: ended.code ?? undefined,
      stats: tracker.stats,
      problems: tracker.problems,
      resultsSeen: tracker.resultsSeen,
      stderrLines,
      hints,
    });
    if (error) {
      writeLog(['', `# iac: ${error.message}`]);
      throw error;
    }
    return outcome(exitCode);
  } finally {
    const cleanup = async (): Promise<void> => {
      process.off('exit', onExit);
      if (secretDir !== undefined) await rm(secretDir, { recursive: true, force: true });
      if (log) await closeStream(log);
    };
    // Ended at its stats: the process, its last output lines and the log are finished in the background.
    if (detachedCleanup) finishInBackground(detachedCleanup.finally(cleanup));
    else await cleanup();
  }
}

/** The commands a failure points to, with -i and -e as run (secret vars cannot be shown: said so). */
function runHints(opts: RunPlaybookOptions, common: Parameters<typeof ansiblePlaybookArgv>[0], secretNames: string[]): OutcomeHints {
  const inventories = opts.inventory === undefined ? [] : Array.isArray(opts.inventory) ? opts.inventory : [opts.inventory];
  const inventoryArgs = inventories.flatMap((i) => ['-i', i]);
  const withoutSecrets = secretNames.length > 0 ? `   # secret extra vars ${secretNames.join(', ')} not included: add -e @<file with them>` : '';
  return {
    rerun: `${commandLine(opts.cwd, ['ansible-playbook', ...ansiblePlaybookArgv(common)])}${withoutSecrets}`,
    ping: (host) => commandLine(opts.cwd, ['ansible', 'all', ...inventoryArgs, '-m', 'ping', '--limit', host]),
    syntax: commandLine(opts.cwd, ['ansible-playbook', '--syntax-check', ...inventoryArgs, opts.playbook]),
  };
}

function signalGroup(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
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

function readLines(stream: Readable | null, maxBytes: number | undefined, onLine: (line: string) => void): Promise<void> {
  if (!stream) return Promise.resolve();
  const splitter = new LineSplitter(onLine, maxBytes);
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      splitter.end();
      resolve();
    });
  });
}

/** Waits for the output streams to end; a stream some stray process still holds is cut off after a while. */
async function drain(done: Array<Promise<void>>, streams: Array<Readable | null | undefined>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      for (const stream of streams) stream?.destroy();
      resolve();
    }, DRAIN_MS);
  });
  await Promise.race([Promise.all(done).then(() => undefined), timeout]);
  clearTimeout(timer);
  await Promise.all(done);
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(resolve));
}
