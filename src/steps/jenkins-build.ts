import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { InterruptedError, isIacError } from '../errors.js';
import type { JenkinsClient } from '../jenkins/client.js';
import { ConsoleLines } from '../jenkins/console-lines.js';
import { pickRevision } from '../jenkins/model.js';
import { describeJob, jobRefUrlPath, jobPathSegments, resolveUnderBase, type JobRef } from '../jenkins/paths.js';
import type { Step } from '../pipeline/types.js';
import { Redactor, SECRET_NAME, type RedactingStream } from '../util/redact.js';
import { remoteLine } from '../util/terminal-text.js';
import { connectJenkins, jobOf } from './jenkins-connect.js';

export interface JenkinsStepOptions {
  cancelOnInterrupt: boolean;
  env: NodeJS.ProcessEnv;
  /** Registers the token for redaction before any request can fail with it in hand. */
  secret: (value: string) => void;
  /**
   * The run's redactor (the one the output uses), so the saved console and cut lines are masked
   * exactly like the screen. Without it the step masks what it knows itself: the Jenkins
   * credentials, secret-looking environment variables and parameters.
   */
  redactor?: Redactor;
  /**
   * Resume: the build an earlier, unfinished run of this commit triggered. Still running → followed,
   * not triggered twice; ended SUCCESS having built exactly this commit → reused.
   */
  resumeBuild?: number;
}

/** How long the interrupt summary waits for Jenkins to say whether the build still runs. */
const INTERRUPT_QUERY_MS = 2000;

/** Triggers the environment's Jenkins job for the pushed SHA and follows it to its result. */
export function jenkinsBuildStep(env: ResolvedEnvironment, settings: NonNullable<ResolvedEnvironment['jenkins']>, options: JenkinsStepOptions): Step {
  const job: JobRef = jobOf(settings, env.branch);
  const jobUrl = resolveUnderBase(settings.url, jobRefUrlPath(job));
  const params = Object.entries(settings.parameters);
  let running: { number: number; url: string } | undefined;
  let queued: number | undefined;
  /** The build ended (or the step finished): nothing of ours runs remotely any more. */
  let done = false;
  /** What Jenkins said when asked after an interrupt: still building, finished, or no answer. */
  let remoteBuilding: boolean | undefined;
  let queueCancelled: boolean | undefined;
  let client: JenkinsClient | undefined;

  const redactor = options.redactor ?? ownRedactor(options.env, settings.parameters);

  return {
    id: 'jenkins',
    title: `Build ${describeJob(job)} on Jenkins`,
    describe: () => [
      `would POST ${jobUrl}${params.length > 0 ? 'buildWithParameters' : 'build'}?delay=0sec`,
      ...(params.length > 0 ? [`parameters: ${params.map(([k, v]) => `${k}=${v}`).join(' ')}`] : []),
      `would follow the queue item and build #N, streaming its console to .iac/runs/<time>/jenkins-${jobFileName(job)}-<N>.log`,
      `would check that the build's git revision is ${env.sha}`,
    ],
    /** Reachable, credentials accepted, the job exists: checked before anything is pushed. */
    async preflight(signal) {
      // Loaded now, while other checks wait on the network: not between the push and the trigger.
      void import('../jenkins/follow.js');
      // The run goes on with this client: it knows the job now, so the trigger needs no second look.
      client = await connectJenkins(settings, options.env, (value) => {
        redactor.add(value);
        options.secret(value);
      });
      await client.getJob(job, signal);
    },
    async run(ctx) {
      const { followBuild, buildResultError, buildRevisionError, shaMatches } = await import('../jenkins/follow.js');
      client ??= await connectJenkins(settings, options.env, (value) => {
        redactor.add(value);
        ctx.secret(value);
      });

      let resumed: { number: number; url: string } | undefined;
      if (options.resumeBuild !== undefined) {
        const earlier = await client.getBuild(job, options.resumeBuild, ctx.signal).catch(() => undefined);
        const built = earlier ? pickRevision(earlier.revisions, env.sha)?.sha : undefined;
        if (earlier && built !== undefined && shaMatches(built, env.sha)) {
          if (!earlier.building && earlier.result === 'SUCCESS') {
            done = true;
            ctx.link(`build #${earlier.number}`, earlier.url);
            ctx.outcome('trigger', true, { build: earlier.number, result: 'SUCCESS', reused: true });
            const age = earlier.timestamp !== undefined ? ` ${formatAge(Date.now() - earlier.timestamp - earlier.durationMs)} ago` : '';
            return { summary: `reused #${earlier.number} SUCCESS, built ${env.sha.slice(0, 7)}${age} (--rebuild builds again)` };
          }
          if (earlier.building) resumed = { number: earlier.number, url: earlier.url };
        }
      }

      let queueId = -1;
      if (resumed) ctx.progress(`following #${resumed.number}, still building ${env.sha.slice(0, 7)} from the earlier run`);
      else {
        ctx.progress(`triggering ${describeJob(job)}`);
        ctx.intent('trigger', { job: describeJob(job), sha: env.sha });
        const trigger = await client.trigger(job, settings.parameters, ctx.signal);
        ctx.outcome('trigger', true, { queue: trigger.queueId });
        queued = queueId = trigger.queueId;
        if (trigger.alreadyQueued) ctx.warn('an identical build was already queued; Jenkins merged this request into it');
        if (trigger.ignoredParameters.length > 0) {
          ctx.warn(`the job does not define ${trigger.ignoredParameters.join(', ')}; Jenkins ignores them`);
        }
        ctx.progress(`queued (queue item ${trigger.queueId})`);
      }

      const capture = new ConsoleCapture(redactor);
      const onAbort = (): void => {
        if (!options.cancelOnInterrupt || !client) return;
        if (running) void client.stop(running.url).catch(() => undefined);
        else if (queued !== undefined) {
          void client.cancelQueueItem(queued).then(
            (cancelled) => void (queueCancelled = cancelled),
            () => undefined,
          );
        }
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let mismatch: string | undefined;
      try {
        for await (const event of followBuild(client, {
          jobPath: job,
          queueId,
          ...(resumed ? { build: resumed } : {}),
          signal: ctx.signal,
          pollIntervalMs: settings.pollIntervalMs,
          queueTimeoutMs: settings.queueTimeoutMs,
          expectedSha: env.sha,
          consoleSink: (chunk) => capture.write(chunk),
        })) {
          switch (event.type) {
            case 'queued':
              ctx.progress(`in queue (${event.state})${event.why ? `: ${remoteLine(event.why)}` : ''}`);
              break;
            case 'started':
              running = { number: event.number, url: event.url };
              queued = undefined;
              ctx.outcome('trigger', true, { build: event.number });
              await capture.open(join(ctx.runDir, `jenkins-${jobFileName(job)}-${event.number}.log`));
              ctx.link(`build #${event.number}`, event.url);
              ctx.progress(`#${event.number} running — ${event.url}`);
              break;
            case 'log':
              for (const line of capture.lines(event.text)) show(line);
              break;
            case 'revision':
              if (event.matches === false) mismatch = event.sha;
              break;
            case 'finished': {
              done = true;
              for (const line of capture.flushLines()) show(line);
              await capture.close();
              if (event.consoleComplete === false) {
                ctx.warn(`Jenkins still announced more console output after build #${event.number ?? '?'} ended; iac stopped reading it (see ${event.url ?? jobUrl}console)`);
              }
              const context = {
                job,
                ...(event.number !== undefined ? { number: event.number } : {}),
                ...(event.url !== undefined ? { url: event.url } : {}),
                consoleTail: [...capture.tail().map((line) => `│ ${line}`), ...(capture.file ? [`full console: ${capture.file}`] : [])],
              };
              if (event.number !== undefined) ctx.outcome('trigger', event.result === 'SUCCESS' && mismatch === undefined, { build: event.number, result: event.result });
              if (mismatch !== undefined) throw buildRevisionError(mismatch, env.sha, event.result, context);
              const error = buildResultError(event.result, context);
              if (error) throw error;
              return { summary: `#${event.number ?? '?'} SUCCESS${event.durationMs !== undefined ? ` in ${Math.round(event.durationMs / 1000)}s` : ''}` };
            }
          }
        }
        throw new InterruptedError();
      } catch (error) {
        await capture.close();
        if (ctx.signal.aborted && !(isIacError(error) && !(error instanceof InterruptedError))) {
          // Ask once (briefly) so the summary says "keeps running" only when Jenkins says so.
          if (running && !done && !options.cancelOnInterrupt) remoteBuilding = await client.isBuilding(running.url, INTERRUPT_QUERY_MS);
          throw new InterruptedError();
        }
        throw error;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }

      function show(line: string): void {
        ctx.log(line);
        if (line.trim() !== '') ctx.liveLine(`#${running?.number ?? '?'} ${line}`);
      }
    },
    onInterrupt() {
      if (done) return undefined;
      if (!running) {
        if (queued === undefined) return undefined;
        if (options.cancelOnInterrupt) {
          return queueCancelled === false
            ? `Jenkins queue item ${queued} of ${describeJob(job)} could not be cancelled; its build may still start: ${jobUrl}`
            : `Jenkins queue item ${queued} of ${describeJob(job)} was asked to leave the queue: ${jobUrl}`;
        }
        return `the queued Jenkins build of ${describeJob(job)} (queue item ${queued}) will still start: ${jobUrl} (use --cancel-on-interrupt to cancel it with iac)`;
      }
      if (options.cancelOnInterrupt) return `Jenkins build #${running.number} was asked to stop: ${running.url}`;
      if (remoteBuilding === false) return undefined;
      if (remoteBuilding === undefined) return `Jenkins build #${running.number} may still be running (Jenkins did not answer in time): ${running.url}`;
      return `Jenkins build #${running.number} keeps running: ${running.url} (use --cancel-on-interrupt to stop it with iac)`;
    },
  };
}

/** Secrets the step can know by itself when the run's redactor is not handed in. */
function ownRedactor(env: NodeJS.ProcessEnv, parameters: Record<string, string>): Redactor {
  const redactor = new Redactor();
  for (const [key, value] of Object.entries(env)) if (SECRET_NAME.test(key)) redactor.add(value);
  for (const [key, value] of Object.entries(parameters)) if (SECRET_NAME.test(key)) redactor.add(value);
  return redactor;
}

function formatAge(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return 'less than a minute';
  if (minutes < 90) return `${minutes} min`;
  return `${Math.round(minutes / 60)} h`;
}

function jobFileName(job: JobRef): string {
  const path = typeof job === 'string' ? job : `${job.path}/${job.branch ?? ''}`;
  return jobPathSegments(path).join('-').replace(/[^\w.-]+/g, '_');
}

/**
 * Saves the console (redacted, every other byte kept, streamed: never held whole) to a 0600 file,
 * and turns it into bounded, sanitized lines for the screen and the failure report.
 */
class ConsoleCapture {
  file: string | undefined;
  private stream: WriteStream | undefined;
  private readonly redacting: RedactingStream;
  private readonly view: ConsoleLines;

  constructor(redactor: Redactor) {
    this.redacting = redactor.stream();
    this.view = new ConsoleLines({ redact: (text) => redactor.redact(text), redactWindow: () => redactor.maxPatternLength });
  }

  async open(file: string): Promise<void> {
    this.file = file;
    const stream = createWriteStream(file, { mode: 0o600, flags: 'w' });
    this.stream = stream;
    await once(stream, 'open');
  }

  async write(chunk: string): Promise<void> {
    const text = this.redacting.push(chunk);
    if (this.stream && text !== '' && !this.stream.write(text)) await once(this.stream, 'drain');
  }

  /** Display lines completed by `text`. */
  lines(text: string): string[] {
    return this.view.push(text);
  }

  flushLines(): string[] {
    return this.view.flush();
  }

  tail(): string[] {
    return this.view.tail();
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return;
    const rest = this.redacting.end();
    await new Promise<void>((resolve) => stream.end(rest, () => resolve()));
  }
}
