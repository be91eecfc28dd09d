import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { InterruptedError, isIacError } from '../errors.js';
import type { JenkinsClient } from '../jenkins/client.js';
import { describeJob, jobRefUrlPath, jobPathSegments, resolveUnderBase, type JobRef } from '../jenkins/paths.js';
import type { Step } from '../pipeline/types.js';
import { connectJenkins, jobOf } from './jenkins-connect.js';


export interface JenkinsStepOptions {
  cancelOnInterrupt: boolean;
  env: NodeJS.ProcessEnv;
  /** Registers the token for redaction before any request can fail with it in hand. */
  secret: (value: string) => void;
}

const TAIL_LINES = 30;

/** Triggers the environment's Jenkins job for the pushed SHA and follows it to its result. */
export function jenkinsBuildStep(env: ResolvedEnvironment, settings: NonNullable<ResolvedEnvironment['jenkins']>, options: JenkinsStepOptions): Step {
  const job: JobRef = jobOf(settings, env.branch);
  const jobUrl = resolveUnderBase(settings.url, jobRefUrlPath(job));
  const params = Object.entries(settings.parameters);
  let running: { number: number; url: string } | undefined;
  let client: JenkinsClient | undefined;

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
      const preflightClient = await connectJenkins(settings, options.env, options.secret);
      await preflightClient.getJob(job, signal);
    },
    async run(ctx) {
      const { followBuild, buildResultError } = await import('../jenkins/follow.js');
      client = await connectJenkins(settings, options.env, (value) => ctx.secret(value));

      ctx.progress(`triggering ${describeJob(job)}`);
      const trigger = await client.trigger(job, settings.parameters, ctx.signal);
      if (trigger.alreadyQueued) ctx.warn('an identical build was already queued; Jenkins merged this request into it');
      if (trigger.ignoredParameters.length > 0) {
        ctx.warn(`the job does not define ${trigger.ignoredParameters.join(', ')}; Jenkins ignores them`);
      }
      ctx.progress(`queued (queue item ${trigger.queueId})`);

      const capture = new ConsoleCapture();
      const onAbort = (): void => {
        if (options.cancelOnInterrupt && running && client) void client.stop(running.url).catch(() => undefined);
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const event of followBuild(client, {
          jobPath: job,
          queueId: trigger.queueId,
          signal: ctx.signal,
          pollIntervalMs: settings.pollIntervalMs,
          expectedSha: env.sha,
          consoleSink: (chunk) => capture.write(chunk),
        })) {
          switch (event.type) {
            case 'queued':
              ctx.progress(`in queue (${event.state})${event.why ? `: ${event.why}` : ''}`);
              break;
            case 'started':
              running = { number: event.number, url: event.url };
              capture.open(join(ctx.runDir, `jenkins-${jobFileName(job)}-${event.number}.log`));
              ctx.link(`build #${event.number}`, event.url);
              ctx.progress(`#${event.number} running — ${event.url}`);
              break;
            case 'log':
              for (const line of capture.lines(event.text)) {
                ctx.log(line);
                if (line.trim() !== '') ctx.liveLine(`#${running?.number ?? '?'} ${line}`);
              }
              break;
            case 'revision':
              if (event.matches === false) ctx.warn(`build #${running?.number ?? '?'} built ${event.sha.slice(0, 12)}, not the pushed ${env.sha.slice(0, 12)}`);
              break;
            case 'finished': {
              await capture.close();
              const error = buildResultError(event.result, {
                job,
                ...(event.number !== undefined ? { number: event.number } : {}),
                ...(event.url !== undefined ? { url: event.url } : {}),
                consoleTail: [...capture.tail().map((line) => `│ ${line}`), ...(capture.file ? [`full console: ${capture.file}`] : [])],
              });
              if (error) throw error;
              return { summary: `#${event.number ?? '?'} SUCCESS${event.durationMs !== undefined ? ` in ${Math.round(event.durationMs / 1000)}s` : ''}` };
            }
          }
        }
        throw new InterruptedError();
      } catch (error) {
        await capture.close();
        if (ctx.signal.aborted && !(isIacError(error) && !(error instanceof InterruptedError))) throw new InterruptedError();
        throw error;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },
    onInterrupt() {
      if (!running) return undefined;
      return options.cancelOnInterrupt
        ? `Jenkins build #${running.number} was asked to stop: ${running.url}`
        : `Jenkins build #${running.number} keeps running: ${running.url} (use --cancel-on-interrupt to stop it with iac)`;
    },
  };
}

function jobFileName(job: JobRef): string {
  const path = typeof job === 'string' ? job : `${job.path}/${job.branch ?? ''}`;
  return jobPathSegments(path).join('-').replace(/[^\w.-]+/g, '_');
}

/** Saves the console byte for byte and keeps the last lines for the failure report. */
class ConsoleCapture {
  file: string | undefined;
  private stream: WriteStream | undefined;
  private pending = '';
  private readonly recent: string[] = [];

  open(file: string): void {
    this.file = file;
    this.stream = createWriteStream(file);
  }

  async write(chunk: string): Promise<void> {
    if (this.stream && !this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Complete lines of `text` (a partial last line waits for the next chunk). */
  lines(text: string): string[] {
    const parts = (this.pending + text).split(/\r?\n/);
    this.pending = parts.pop() ?? '';
    for (const line of parts) {
      this.recent.push(line);
      if (this.recent.length > TAIL_LINES) this.recent.shift();
    }
    return parts;
  }

  tail(): string[] {
    return this.pending === '' ? [...this.recent] : [...this.recent, this.pending].slice(-TAIL_LINES);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await new Promise<void>((resolve) => stream.end(resolve));
  }
}

