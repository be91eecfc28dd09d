/**
 * A typed Jenkins REST client (protocols/jenkins.md): trigger, queue, builds, console, stop.
 * Authenticates with Basic user + API token (no crumb needed); without a token it uses a crumb bound
 * to the JSESSIONID session cookie. All HTTP goes through one HttpTransport: idempotent GETs are
 * retried under its one policy; the trigger POST never is.
 */
import { BuildError, InterruptedError, PreflightError, UnreachableError, UsageError } from '../errors.js';
import {
  type BuildInfo,
  type JobInfo,
  type QueueItem,
  UnexpectedJenkinsResponse,
  isRecord,
  parseBuild,
  parseJob,
  parseQueueItem,
  pickRevision,
} from './model.js';
import { type JobRef, describeJob, jobRefUrlPath, normalizeBaseUrl, queueIdFromLocation, resolveUnderBase } from './paths.js';
import {
  DEFAULT_MAX_JSON_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY,
  type HttpRequest,
  type HttpResponse,
  HttpTransport,
  type RetryPolicy,
  type RetrySession,
  tooLarge,
  unreachable,
} from './transport.js';
import { AUTH_HINT, authError, jobNotFound, loginRedirect, notBuildable, statusError, triggerRejected, unexpectedAnswer } from './client-errors.js';
import { decodeConsoleBytes } from './console-decode.js';

export type { RetryPolicy } from './transport.js';

export interface JenkinsClientOptions {
  baseUrl: string;
  user?: string;
  token?: string;
  /** Allow sending credentials over plain http to a host other than loopback. */
  allowInsecureHttp?: boolean;
  retry?: RetryPolicy;
  /** Time to wait for response headers (and between body chunks while streaming). */
  requestTimeoutMs?: number;
  /** JSON answers larger than this are refused. Default 8 MB. */
  maxJsonBytes?: number;
}

export interface TriggerResult {
  queueId: number;
  queueUrl: string;
  /** 303: an identical item was already waiting; our parameters were folded into it. */
  alreadyQueued: boolean;
  /** Parameters we sent that the job does not define (Jenkins ignores them silently). */
  ignoredParameters: string[];
}

export interface BuildSummary {
  number: number;
  url: string;
  result: BuildInfo['result'];
  building: boolean;
  timestamp: number | undefined;
  durationMs: number;
  sha: string | undefined;
}

export interface LastBuilds {
  builds: BuildSummary[];
  inQueue: boolean;
  queueWhy: string | null;
}

export interface ProgressiveChunk {
  text: string;
  nextStart: number;
  moreData: boolean;
}

/** An open progressiveText response whose body is read by the caller (see ConsoleReader). */
export interface ProgressiveStream {
  textSize: number;
  moreData: boolean;
  body: AsyncIterable<Uint8Array>;
}

/** The fields a follower needs, so Jenkins does not send (possibly huge) `buildsByBranchName` maps. */
const BUILD_TREE =
  'number,url,building,inProgress,result,timestamp,duration,estimatedDuration,queueId,actions[lastBuiltRevision[SHA1],remoteUrls,revision[hash],parameters[name,value]]';

const CRUMB_FAILURE = /no valid crumb/i;
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class JenkinsClient {
  /** Base URL with trailing slash and context path, without credentials: safe to show. */
  readonly baseUrl: string;
  /** Requests sent, and body bytes received for console requests (the console benchmark reads this). */
  readonly stats = { requests: 0, consoleBytes: 0 };
  readonly retryPolicy: RetryPolicy;
  private readonly http: HttpTransport;
  private readonly authorization: string | undefined;
  private readonly user: string | undefined;
  private readonly maxJsonBytes: number;
  private crumb: { field: string; value: string } | null | undefined;
  private sessionCookie: string | undefined;

  constructor(opts: JenkinsClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.baseUrl);
    } catch {
      throw new UsageError('jenkins.url', `Jenkins URL is not a URL: ${opts.baseUrl.replace(/\/\/[^@/]*@/, '//')}`, {
        hint: 'set jenkins.url in iac.yaml to e.g. https://ci.example.com/ (with any context path)',
      });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UsageError('jenkins.url', `Jenkins URL must be http:// or https://, not ${parsed.protocol}`, {
        hint: 'set jenkins.url in iac.yaml to e.g. https://ci.example.com/',
      });
    }
    this.baseUrl = normalizeBaseUrl(opts.baseUrl);
    this.user = opts.user;
    this.retryPolicy = opts.retry ?? DEFAULT_RETRY;
    this.maxJsonBytes = opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
    this.http = new HttpTransport({ baseUrl: this.baseUrl, policy: this.retryPolicy, timeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS });
    if (opts.user && opts.token) {
      if (parsed.protocol === 'http:' && !isLoopback(parsed.hostname) && !opts.allowInsecureHttp) {
        throw new PreflightError('jenkins.insecure-http', `refusing to send Jenkins credentials over plain http to ${parsed.host}`, {
          hint: 'use an https:// jenkins.url, or set jenkins.allowInsecureHttp: true in iac.yaml if this network is trusted',
        });
      }
      this.authorization = `Basic ${Buffer.from(`${opts.user}:${opts.token}`).toString('base64')}`;
    }
  }

  /** `…/job/a/job/b/` under the base URL. */
  jobUrl(job: JobRef): string {
    return resolveUnderBase(this.baseUrl, jobRefUrlPath(job));
  }

  /** Build URLs are built from our base URL, never taken from JSON (Jenkins' root URL may be internal). */
  buildUrl(job: JobRef, number: number): string {
    return `${this.jobUrl(job)}${number}/`;
  }

  /** A failure streak under this client's one retry policy (for readers that resume, like ConsoleReader). */
  retries(signal: AbortSignal | undefined): RetrySession {
    return this.http.retries(signal);
  }

  async getJob(job: JobRef, signal?: AbortSignal): Promise<JobInfo> {
    const { parameterized: _parameterized, ...info } = await this.getJobWithKind(job, signal);
    return info;
  }

  /**
   * Queues a build: `buildWithParameters` for parameterized jobs, `build` otherwise, `delay=0sec`.
   * Sent at most once: after the POST left, any failure is reported as "outcome unknown", never retried.
   */
  async trigger(job: JobRef, params: Record<string, string>, signal?: AbortSignal): Promise<TriggerResult> {
    const info = await this.getJobWithKind(job, signal);
    const names = Object.keys(params);
    if (!info.parameterized && names.length > 0) {
      throw new UsageError('jenkins.not-parameterized', `Jenkins job ${describeJob(job)} takes no parameters, but iac.yaml passes ${names.join(', ')}`, {
        hint: 'add these parameters to the job ("This project is parameterized"), or remove them from jenkins.parameters in iac.yaml',
      });
    }
    if (!info.buildable) throw notBuildable(job, this.jobUrl(job));
    const endpoint = info.parameterized ? 'buildWithParameters' : 'build';
    const url = `${this.jobUrl(job)}${endpoint}?delay=0sec`;
    const form = new URLSearchParams(params).toString();
    const headers: Record<string, string> = info.parameterized ? { 'content-type': 'application/x-www-form-urlencoded' } : {};
    const response = await this.post(url, { headers, ...(info.parameterized ? { body: form } : {}), signal }, () =>
      `the trigger of ${describeJob(job)} may or may not have queued a build`,
    );
    response.discard();
    const location = response.header('location');
    const queueId = queueIdFromLocation(location);
    if ((response.status === 201 || response.status === 303 || response.status === 302) && queueId !== undefined) {
      return {
        queueId,
        queueUrl: resolveUnderBase(this.baseUrl, `queue/item/${queueId}/`),
        alreadyQueued: response.status === 303,
        ignoredParameters: names.filter((name) => !info.parameterNames.includes(name)),
      };
    }
    if (response.status === 201 || response.status === 303) {
      throw new UnreachableError('jenkins.no-location', `Jenkins queued ${describeJob(job)} but sent no queue Location, so the build cannot be followed`, {
        hint: `open ${this.jobUrl(job)} to follow it (Jenkins older than 1.519 does not report queue items)`,
      });
    }
    if (response.status === 302 && this.isJobPage(location, job)) {
      // Jenkins' own "not scheduled" answer: a 302 back to the job page (a QueueDecisionHandler vetoed it).
      throw new BuildError('NOT_BUILT', `Jenkins did not schedule ${describeJob(job)} (answered 302 without a queue item)`, {
        hint: `open ${this.jobUrl(job)}: a plugin may have vetoed the build, or the job is a multibranch project (use a branch job)`,
      });
    }
    if (response.status >= 300 && response.status < 400) {
      throw loginRedirect(this.baseUrl, location, `the trigger of ${describeJob(job)}`);
    }
    throw triggerRejected(this.baseUrl, job, this.jobUrl(job), response.status, response.statusText);
  }

  async getQueueItem(queueId: number, signal?: AbortSignal): Promise<QueueItem | undefined> {
    const json = await this.getJson(`queue/item/${queueId}/api/json`, signal, () => undefined);
    return json === undefined ? undefined : this.parse(() => parseQueueItem(json));
  }

  /** `/queue/cancelItem?id=N`: true when Jenkins cancelled it (204, or 302 before 2.211), false when it had already left. */
  async cancelQueueItem(queueId: number, signal?: AbortSignal): Promise<boolean> {
    const response = await this.post(resolveUnderBase(this.baseUrl, `queue/cancelItem?id=${queueId}`), { signal }, () => `cancelling queue item ${queueId} may or may not have worked`);
    response.discard();
    if (response.status === 204 || response.status === 302 || response.status === 200) return true;
    if (response.status === 404 || response.status === 500) return false;
    throw statusError(this.baseUrl, response, `cancel queue item ${queueId}`);
  }

  /** The build, or undefined while it does not exist (404). Only the fields a follower needs are asked for. */
  async getBuild(job: JobRef, number: number, signal?: AbortSignal): Promise<BuildInfo | undefined> {
    const json = await this.getJson(`${this.buildUrl(job, number)}api/json?tree=${BUILD_TREE}`, signal, () => undefined);
    return json === undefined ? undefined : this.parse(() => parseBuild(json));
  }

  /**
   * Asks once, within `timeoutMs`, whether a build is still running: true / false, or undefined when
   * Jenkins did not say (for the interrupt summary, which must not claim what it does not know).
   */
  async isBuilding(buildUrl: string, timeoutMs: number): Promise<boolean | undefined> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await this.send({ method: 'GET', url: `${buildUrl.replace(/\/?$/, '/')}api/json?tree=building`, signal });
      if (response.status !== 200) {
        response.discard();
        return undefined;
      }
      const json: unknown = JSON.parse(await response.text(64 * 1024, () => tooLarge(this.baseUrl, 'a build state', 64 * 1024)));
      return isRecord(json) && typeof json.building === 'boolean' ? json.building : undefined;
    } catch {
      return undefined;
    }
  }

  /** Among the newest 100 builds, the one started from queue item `queueId` (after the queue forgot it). */
  async findBuildByQueueId(job: JobRef, queueId: number, signal?: AbortSignal): Promise<{ number: number; url: string } | undefined> {
    const json = await this.getJson(`${this.jobUrl(job)}api/json?tree=builds[number,url,queueId]{0,100}`, signal, () => {
      throw jobNotFound(this.baseUrl, job, this.jobUrl(job));
    });
    const builds = isRecord(json) && Array.isArray(json.builds) ? json.builds.filter(isRecord) : [];
    const match = builds.find((build) => build.queueId === queueId);
    if (!match || typeof match.number !== 'number') return undefined;
    return { number: match.number, url: this.buildUrl(job, match.number) };
  }

  /** The newest `n` builds with result, age and revision, and whether a build is waiting in the queue. */
  async lastBuilds(job: JobRef, n: number, signal?: AbortSignal): Promise<LastBuilds> {
    const fields = 'number,url,result,building,timestamp,duration,queueId,actions[lastBuiltRevision[SHA1],remoteUrls,revision[hash]]';
    const json = await this.getJson(`${this.jobUrl(job)}api/json?tree=builds[${fields}]{0,${n}},inQueue,queueItem[why]`, signal, () => {
      throw jobNotFound(this.baseUrl, job, this.jobUrl(job));
    });
    if (!isRecord(json)) throw unexpectedAnswer(this.baseUrl, new UnexpectedJenkinsResponse('job is not a JSON object'));
    const builds = (Array.isArray(json.builds) ? json.builds : []).slice(0, n).map((raw) => {
      const build = this.parse(() => parseBuild(raw));
      return {
        number: build.number,
        url: this.buildUrl(job, build.number),
        result: build.result,
        building: build.building,
        timestamp: build.timestamp,
        durationMs: build.durationMs,
        sha: pickRevision(build.revisions)?.sha,
      };
    });
    const queueItem = isRecord(json.queueItem) ? json.queueItem : undefined;
    return { builds, inQueue: json.inQueue === true, queueWhy: typeof queueItem?.why === 'string' ? queueItem.why : null };
  }

  /**
   * One progressiveText read from byte `start`, buffered: fine for small logs; ConsoleReader streams.
   * CRLF (Jenkins' line-end normalization) comes back as LF; an incomplete UTF-8 character at the end
   * is left for the next read (`nextStart` points at it).
   */
  async progressiveText(buildUrl: string, start: number, signal?: AbortSignal): Promise<ProgressiveChunk> {
    return this.http.retrying(signal, async () => {
      const stream = await this.openProgressiveText(buildUrl, start, signal);
      const parts: Uint8Array[] = [];
      for await (const part of stream.body) parts.push(part);
      if (stream.textSize < start) return { text: '', nextStart: start, moreData: stream.moreData };
      const decoded = decodeConsoleBytes(Buffer.concat(parts));
      return { text: decoded.text, nextStart: stream.textSize - decoded.pending.length, moreData: stream.moreData };
    });
  }

  /**
   * Opens `logText/progressiveText?start=N`, once (the caller retries under `retries()`); the
   * caller reads the body, which throws a TransportError if the connection breaks.
   */
  async openProgressiveText(buildUrl: string, start: number, signal?: AbortSignal): Promise<ProgressiveStream> {
    const url = `${buildUrl.replace(/\/?$/, '/')}logText/progressiveText?start=${start}`;
    const response = await this.send({ method: 'GET', url, ...(signal ? { signal } : {}) });
    if (response.status !== 200) {
      response.discard();
      if (response.status >= 300 && response.status < 400) throw loginRedirect(this.baseUrl, response.header('location'), `the console of ${buildUrl}`);
      throw statusError(this.baseUrl, response, `console of ${buildUrl}`);
    }
    const textSize = Number(response.header('x-text-size') ?? 'NaN');
    if (!Number.isFinite(textSize)) {
      response.discard();
      throw unexpectedAnswer(this.baseUrl, new UnexpectedJenkinsResponse('console response without X-Text-Size'));
    }
    return { textSize, moreData: response.header('x-more-data') === 'true', body: this.countConsoleBytes(response) };
  }

  /** Asks Jenkins to abort the build (`/stop`, 302). The build ends ABORTED shortly after. */
  async stop(buildUrl: string, signal?: AbortSignal): Promise<void> {
    const response = await this.post(`${buildUrl.replace(/\/?$/, '/')}stop`, { signal }, () => `stopping ${buildUrl} may or may not have worked`);
    response.discard();
    if (response.status === 302 || response.status === 200 || response.status === 303) return;
    if (response.status === 404) {
      throw new UsageError('jenkins.build-not-found', `Jenkins build ${buildUrl} does not exist`, { hint: 'check the build URL' });
    }
    throw statusError(this.baseUrl, response, `stop ${buildUrl}`);
  }

  // ——— internals ———

  private async *countConsoleBytes(response: HttpResponse): AsyncGenerator<Uint8Array> {
    for await (const chunk of response.chunks()) {
      this.stats.consoleBytes += chunk.length;
      yield chunk;
    }
  }

  private isJobPage(location: string | undefined, job: JobRef): boolean {
    if (!location) return true;
    try {
      const target = new URL(location, this.jobUrl(job));
      const path = (p: string): string => decodeURIComponent(p).replace(/\/+$/, '');
      return path(target.pathname) === path(new URL(this.jobUrl(job)).pathname);
    } catch {
      return false;
    }
  }

  /** Job definitions this client has read: the preflight's answer serves the trigger (one round trip less). */
  private readonly jobs = new Map<string, JobInfo & { parameterized: boolean }>();

  private async getJobWithKind(job: JobRef, signal?: AbortSignal): Promise<JobInfo & { parameterized: boolean }> {
    const url = this.jobUrl(job);
    const known = this.jobs.get(url);
    if (known) return known;
    const json = await this.getJson(`${url}api/json`, signal, () => {
      throw jobNotFound(this.baseUrl, job, url);
    });
    const info = { ...this.parse(() => parseJob(json)), url };
    this.jobs.set(url, info);
    return info;
  }

  private parse<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw unexpectedAnswer(this.baseUrl, error);
    }
  }

  /** GET + JSON under the retry policy (5xx and transient network failures); a 404 is handed to `onNotFound`. */
  private getJson(pathOrUrl: string, signal: AbortSignal | undefined, onNotFound: () => undefined): Promise<unknown> {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : resolveUnderBase(this.baseUrl, pathOrUrl);
    const what = new URL(url).pathname;
    return this.http.retrying(signal, async () => {
      const response = await this.send({ method: 'GET', url, ...(signal ? { signal } : {}) });
      if (response.status === 404) {
        response.discard();
        return onNotFound();
      }
      if (response.status >= 300 && response.status < 400) {
        response.discard();
        throw loginRedirect(this.baseUrl, response.header('location'), `a request for ${what}`);
      }
      if (response.status !== 200) {
        response.discard();
        throw statusError(this.baseUrl, response, url);
      }
      const text = await response.text(this.maxJsonBytes, () => tooLarge(this.baseUrl, what, this.maxJsonBytes));
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw unexpectedAnswer(this.baseUrl, new UnexpectedJenkinsResponse(`${what} did not answer JSON`));
      }
    });
  }

  /** One exchange with our credentials; 401 and non-crumb 403 become auth errors at once. */
  private async send(req: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (this.authorization) headers.authorization = this.authorization;
    if (this.sessionCookie) headers.cookie = this.sessionCookie;
    this.stats.requests++;
    const response = await this.http.send({ ...req, headers });
    if (response.status === 401 || (response.status === 403 && !(await this.isCrumbFailure(response)))) {
      response.discard();
      throw authError(this.baseUrl, this.user, response);
    }
    return response;
  }

  /** 403 means a bad crumb, no authentication, or a missing permission; only the first is retried with a fresh crumb. */
  private async isCrumbFailure(response: HttpResponse): Promise<boolean> {
    if (CRUMB_FAILURE.test(response.statusText)) return true;
    if (response.header('x-required-permission') || response.header('x-you-are-authenticated-as')) return false;
    // A crumb refusal carries no permission headers; its body (an error page) names it.
    const body = await response.text(64 * 1024, () => new Error('too large')).catch(() => '');
    return CRUMB_FAILURE.test(body);
  }

  /** Sends a POST once (plus one resend when the crumb filter rejected it unprocessed), on a fresh connection. */
  private async post(url: string, init: { headers?: Record<string, string>; body?: string; signal?: AbortSignal | undefined }, unknownOutcome: () => string): Promise<HttpResponse> {
    for (let crumbAttempt = 0; ; crumbAttempt++) {
      if (!this.authorization || crumbAttempt > 0) await this.ensureCrumb(init.signal, crumbAttempt > 0);
      const headers: Record<string, string> = { ...init.headers };
      if (this.crumb) headers[this.crumb.field] = this.crumb.value;
      let response: HttpResponse;
      try {
        response = await this.send({
          method: 'POST',
          url,
          headers,
          ...(init.body !== undefined ? { body: init.body } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
          freshConnection: true,
        });
      } catch (error) {
        if (init.signal?.aborted) throw new InterruptedError();
        if (error instanceof UnreachableError || error instanceof InterruptedError) throw error;
        // Never resent: the server may have acted on it.
        throw unreachable(this.baseUrl, error, `did not answer: ${unknownOutcome()}`);
      }
      if (response.status === 403 && crumbAttempt === 0) {
        response.discard();
        continue;
      }
      if (response.status === 403) {
        response.discard();
        throw new UnreachableError('jenkins.crumb', `Jenkins at ${this.baseUrl} rejected the request: no valid crumb (403)`, { hint: AUTH_HINT });
      }
      return response;
    }
  }

  /** Fetches a crumb (and the JSESSIONID cookie it is bound to); null when CSRF protection is off (404). */
  private async ensureCrumb(signal: AbortSignal | undefined, refresh: boolean): Promise<void> {
    if (this.crumb !== undefined && !refresh) return;
    const url = resolveUnderBase(this.baseUrl, 'crumbIssuer/api/json');
    await this.http.retrying(signal, async () => {
      const response = await this.send({ method: 'GET', url, ...(signal ? { signal } : {}) });
      if (response.status === 404) {
        response.discard();
        this.crumb = null;
        return;
      }
      if (response.status >= 300 && response.status < 400) {
        response.discard();
        throw loginRedirect(this.baseUrl, response.header('location'), 'the crumb request');
      }
      if (response.status !== 200) {
        response.discard();
        throw statusError(this.baseUrl, response, 'crumbIssuer');
      }
      const cookies = response.setCookies().map((cookie) => cookie.split(';')[0] ?? '');
      const session = cookies.filter((cookie) => /^JSESSIONID/i.test(cookie));
      if (session.length > 0) this.sessionCookie = session.join('; ');
      let json: unknown;
      try {
        json = JSON.parse(await response.text(64 * 1024, () => tooLarge(this.baseUrl, 'crumbIssuer', 64 * 1024)));
      } catch (error) {
        if (error instanceof UnreachableError) throw error;
        throw unexpectedAnswer(this.baseUrl, new UnexpectedJenkinsResponse('crumbIssuer did not answer JSON'));
      }
      if (!isRecord(json) || typeof json.crumb !== 'string' || typeof json.crumbRequestField !== 'string') {
        throw unexpectedAnswer(this.baseUrl, new UnexpectedJenkinsResponse('crumbIssuer answer has no crumb'));
      }
      this.crumb = { field: json.crumbRequestField, value: json.crumb };
    });
  }
}
