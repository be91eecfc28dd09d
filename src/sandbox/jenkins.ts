/**
 * A Jenkins-compatible server on 127.0.0.1 for tests and `iac demo`, faithful to
 * protocols/jenkins.md: `X-Jenkins` headers, triggers answered 201 + absolute `Location` (303 for
 * a collapsed duplicate), crumbs bound to a `JSESSIONID.<hex>` session cookie, API tokens exempt
 * from crumbs, 401/403/404/405/409 as Jenkins answers them, quiet period and queue states with
 * Jenkins' `why` texts, LeftItems forgotten after a while, consoles served as CRLF with
 * `X-Text-Size` / `X-More-Data`, `/stop`, folders and multibranch name encoding, `tree=`, and
 * injectable faults (latency, 503 windows, connections dropped mid-console, failing trigger POSTs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readAll, toCrlf } from './jenkins-console.js';
import type { JenkinsSandboxFaults, JenkinsSandboxOptions, SandboxUser } from './jenkins-scenario.js';
import { type BuildRecord, type ItemNode, type JobState, SandboxState } from './jenkins-state.js';
import { TreeSyntaxError, parseTree, prune } from './jenkins-tree.js';

export type {
  JenkinsSandboxFaults,
  JenkinsSandboxOptions,
  SandboxBuildResult,
  SandboxBuildScenario,
  SandboxJob,
  SandboxUser,
} from './jenkins-scenario.js';

export interface JenkinsTriggerRecord {
  /** Jenkins' full name of the job: `shop/deploy`, `shop/app/feature%2Fx` for a multibranch branch. */
  job: string;
  endpoint: 'build' | 'buildWithParameters';
  /** The parameters as sent (query string and form body), before defaults are merged. */
  parameters: Record<string, string>;
  /** undefined when the trigger was refused. */
  queueId: number | undefined;
  /** The status the sandbox answered. */
  status: number;
  user: string | undefined;
}

export interface JenkinsRequestRecord {
  method: string;
  /** Path and query as received (context path included). */
  path: string;
  status: number;
}

export interface JenkinsSandbox {
  /** Base URL with context path and trailing slash: `http://127.0.0.1:PORT/jenkins/`. */
  url: string;
  /** Every trigger POST that reached a job, in order. */
  readonly triggers: JenkinsTriggerRecord[];
  /** Every request, in order of arrival (status filled in when answered). */
  readonly requests: JenkinsRequestRecord[];
  /** Console body bytes written (CRLF included), for the console benchmark. */
  readonly stats: { consoleBytesSent: number; crumbsIssued: number };
  /** Mutable: tests may inject faults while the sandbox runs. */
  faults: JenkinsSandboxFaults;
  /** The complete log of build `number` of `job` (full name), exactly the bytes X-Text-Size counts. */
  console(job: string, number: number): string;
  /** The size in bytes of that log (no need to materialize a 200 MB log). */
  consoleSize(job: string, number: number): number;
  /** Answer every request with 503 for `ms` from now (Jenkins restarting). */
  unavailableFor(ms: number): void;
  close(): Promise<void>;
}

interface Caller {
  user: string | undefined;
  via: 'token' | 'password' | 'anonymous';
  canRead: boolean;
  canBuild: boolean;
}

const MAX_FORM_BYTES = 1024 * 1024;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Status reasons must be plain ASCII. */
function reason(message: string): string {
  return message.replace(/[^\x20-\x7e]/g, '?');
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char] as string);
}

/** Jenkins' error pages are HTML (servlet container), the message only in the reason and title. */
function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.statusMessage = reason(message);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'text/html;charset=utf-8');
  res.end(`<html><head><title>Error ${status} ${escapeHtml(message)}</title></head><body><h2>HTTP ERROR ${status} ${escapeHtml(message)}</h2></body></html>\n`);
}

function sendJson(res: ServerResponse, value: unknown): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json;charset=UTF-8');
  res.setHeader('x-frame-options', 'deny');
  res.end(JSON.stringify(value));
}

/** Waits for the socket to take more data (or to go away), without piling up listeners. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** `TimeDuration.fromString`: a bare number is ms, `Nsec` seconds; anything else is invalid. */
function parseDelay(value: string): number | undefined {
  const match = /^\s*(\d+)\s*(sec|secs)?\s*$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (match[2] ? 1000 : 1);
}

export async function startJenkinsSandbox(options: JenkinsSandboxOptions = {}): Promise<JenkinsSandbox> {
  const state = new SandboxState(options, Date.now());
  const users: SandboxUser[] = options.users ?? [];
  const anonymous = options.anonymous ?? (users.length === 0 ? 'build' : 'none');
  const csrf = options.csrf !== false;
  const contextPath = (options.contextPath ?? '').replace(/\/+$/, '').replace(/^(?=[^/])/, '/');
  const version = options.version ?? '2.528';
  const instanceSession = randomBytes(4).toString('hex');
  const cookieName = `JSESSIONID.${randomBytes(4).toString('hex')}`;
  const crumbSalt = randomBytes(16).toString('hex');
  const sessions = new Map<string, true>();
  const triggers: JenkinsTriggerRecord[] = [];
  const requests: JenkinsRequestRecord[] = [];
  const stats = { consoleBytesSent: 0, crumbsIssued: 0 };
  let dropsDone = 0;
  const sandbox = { faults: { ...(options.faults ?? {}) } };

  const crumbFor = (user: string | undefined, session: string): string =>
    createHash('sha256').update(`${user ?? 'anonymous'};${session}${crumbSalt}`).digest('hex');

  function sessionOf(req: IncomingMessage): string | undefined {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=');
      if (name === cookieName && value && sessions.has(value)) return value;
    }
    return undefined;
  }

  function authenticate(req: IncomingMessage): Caller | 'bad' {
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const name = decoded.slice(0, colon);
      const secret = decoded.slice(colon + 1);
      if (colon < 0) return 'bad';
      // Security off (no users): any Basic credentials pass, as an API token would.
      if (users.length === 0) return { user: name, via: 'token', canRead: true, canBuild: true };
      const user = users.find((candidate) => candidate.user === name);
      if (!user) return 'bad';
      if (secret === user.token) return { user: name, via: 'token', canRead: true, canBuild: user.canBuild !== false };
      if (user.password !== undefined && secret === user.password) return { user: name, via: 'password', canRead: true, canBuild: user.canBuild !== false };
      return 'bad';
    }
    return { user: undefined, via: 'anonymous', canRead: anonymous !== 'none', canBuild: anonymous === 'build' };
  }

  function forbidden(res: ServerResponse, caller: Caller, permission: string): void {
    const who = caller.user ?? 'anonymous';
    const message = caller.user ? `${who} is missing the ${permission.split('.').slice(-2).join('/')} permission` : 'Authentication required';
    sendError(res, 403, message, { 'x-you-are-authenticated-as': who, 'x-required-permission': permission });
  }

  /** CrumbFilter: every POST needs a valid (crumb, session) unless authenticated by API token. */
  function crumbValid(req: IncomingMessage, url: URL, form: URLSearchParams, caller: Caller): boolean {
    if (!csrf || caller.via === 'token') return true;
    const crumb = (req.headers['jenkins-crumb'] as string | undefined) ?? form.get('Jenkins-Crumb') ?? url.searchParams.get('Jenkins-Crumb');
    const session = sessionOf(req);
    return crumb !== null && crumb !== undefined && session !== undefined && crumb === crumbFor(caller.user, session);
  }

  function absolute(req: IncomingMessage, path: string): string {
    return `http://${req.headers.host ?? '127.0.0.1'}${contextPath}/${path}`;
  }

  function json(res: ServerResponse, url: URL, value: Record<string, unknown>): void | Promise<void> {
    const padding = sandbox.faults.jsonPaddingBytes;
    if (padding) return sendPaddedJson(res, value, padding);
    const tree = url.searchParams.get('tree');
    if (!tree) return sendJson(res, value);
    try {
      sendJson(res, prune(value, parseTree(tree)));
    } catch (error) {
      if (error instanceof TreeSyntaxError) return sendError(res, 400, error.message);
      throw error;
    }
  }

  /** `{"padding":"xxxx…", …value}`, streamed: a body of any size without building it in memory. */
  async function sendPaddedJson(res: ServerResponse, value: Record<string, unknown>, bytes: number): Promise<void> {
    res.statusCode = 200;
    res.setHeader('content-type', 'application/json;charset=UTF-8');
    const block = Buffer.alloc(65_536, 'x');
    res.write('{"padding":"');
    for (let left = bytes; left > 0 && !res.destroyed; left -= block.length) {
      if (!res.write(left >= block.length ? block : block.subarray(0, left))) await drained(res);
    }
    const rest = JSON.stringify(value);
    res.end(`"${rest === '{}' ? '' : ','}${rest.slice(1)}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: JenkinsRequestRecord = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    const faults = sandbox.faults;
    if (faults.latencyMs) await sleep(faults.latencyMs);
    res.setHeader('x-jenkins', version);
    res.setHeader('x-jenkins-session', instanceSession);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-hudson', '1.395');
    const now = Date.now();
    if (faults.unavailableUntil !== undefined && now < faults.unavailableUntil) {
      return sendError(res, 503, 'Service Unavailable', { 'content-type': 'text/html;charset=utf-8' });
    }
    const redirect = faults.loginRedirect;
    if (redirect && (redirect.methods ?? ['POST']).includes((req.method ?? 'GET') as 'GET' | 'POST')) {
      req.resume();
      res.statusCode = 302;
      res.setHeader('location', redirect.location);
      res.setHeader('content-type', 'text/html;charset=utf-8');
      return void res.end('<html><body>Redirecting to the login page…</body></html>\n');
    }
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (!url.pathname.startsWith(`${contextPath}/`)) return sendError(res, 404, 'Not Found');
    let segments: string[];
    try {
      segments = url.pathname.slice(contextPath.length + 1).split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return sendError(res, 400, 'Bad path');
    }
    state.tick(now);
    const caller = authenticate(req);
    if (caller === 'bad') return sendError(res, 401, 'Unauthorized', { 'www-authenticate': 'Basic realm="Jenkins"' });
    const method = req.method ?? 'GET';
    const form = method === 'POST' ? await readForm(req) : new URLSearchParams();
    if (method === 'POST' && !crumbValid(req, url, form, caller)) return sendError(res, 403, 'No valid crumb was included in the request');

    if (segments[0] === 'crumbIssuer') return crumbIssuer(req, res, url, caller);
    if (!caller.canRead) return forbidden(res, caller, 'hudson.model.Hudson.Read');
    if (segments.length === 0 || (segments[0] === 'api' && segments[1] === 'json')) return json(res, url, state.containerJson(state.root, now));
    if (segments[0] === 'queue') return queue(req, res, url, form, segments.slice(1), caller, now);

    let node: ItemNode = state.root;
    let rest = segments;
    while (rest[0] === 'job' && rest[1] !== undefined) {
      const child = node.children.get(rest[1]);
      if (!child) return sendError(res, 404, 'Not Found');
      node = child;
      rest = rest.slice(2);
    }
    if (node === state.root) return sendError(res, 404, 'Not Found');
    if (!node.job) {
      if (rest.length === 0 || (rest[0] === 'api' && rest[1] === 'json' && rest.length === 2)) return json(res, url, state.containerJson(node, now));
      if (node.kind === 'multibranch' && rest[0] === 'build' && rest.length === 1) {
        if (method !== 'POST') return sendError(res, 405, 'Method Not Allowed', { allow: 'POST' });
        // ComputedFolder.doBuild: schedules a scan and forwards to the previous page; no queue Location.
        res.statusCode = 302;
        res.setHeader('location', absolute(req, node.urlPath));
        return void res.end();
      }
      return sendError(res, 404, 'Not Found');
    }
    return jobRoute(req, res, url, form, node.job, rest, caller, now);
  }

  function crumbIssuer(req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): void {
    if (!csrf) return sendError(res, 404, 'Not Found');
    let session = sessionOf(req);
    if (!session) {
      session = randomBytes(16).toString('hex');
      sessions.set(session, true);
      res.setHeader('set-cookie', `${cookieName}=${session}; Path=${contextPath || '/'}; HttpOnly`);
    }
    const crumb = crumbFor(caller.user, session);
    stats.crumbsIssued++;
    const path = url.pathname.slice(contextPath.length);
    if (path.startsWith('/crumbIssuer/api/xml') && url.searchParams.has('xpath')) {
      res.setHeader('content-type', 'text/plain;charset=UTF-8');
      return void res.end(`Jenkins-Crumb:${crumb}`);
    }
    return sendJson(res, { _class: 'hudson.security.csrf.DefaultCrumbIssuer', crumb, crumbRequestField: 'Jenkins-Crumb' });
  }

  function queue(req: IncomingMessage, res: ServerResponse, url: URL, form: URLSearchParams, rest: string[], caller: Caller, now: number): void | Promise<void> {
    const method = req.method ?? 'GET';
    if (rest.length === 0 || (rest[0] === 'api' && rest[1] === 'json')) {
      const items = state.queue.filter((entry) => !entry.left).map((entry) => state.queueItemJson(entry, now));
      return json(res, url, { _class: 'hudson.model.Queue', discoverableItems: [], items });
    }
    if (rest[0] === 'cancelItem') {
      if (method !== 'POST') return sendError(res, 405, 'Method Not Allowed', { allow: 'POST' });
      const id = Number(url.searchParams.get('id') ?? form.get('id'));
      const entry = Number.isInteger(id) ? state.queueItem(id, now) : undefined;
      if (!entry) return sendError(res, 404, `Provided id (${id}) not found`);
      if (!caller.canBuild) return sendError(res, 422, `Item for id (${id}) is not cancellable`);
      if (state.cancel(entry, now) === 'left') return sendError(res, 500, `Could not cancel run for id ${id}`);
      res.statusCode = 204;
      return void res.end();
    }
    if (rest[0] === 'item' && rest[1] !== undefined && /^\d+$/.test(rest[1])) {
      const entry = state.queueItem(Number(rest[1]), now);
      if (!entry) return sendError(res, 404, 'Not Found');
      if (rest.length === 2) {
        res.setHeader('content-type', 'text/plain;charset=UTF-8');
        return void res.end('Queue item exists. For details check, for example, api/json?tree=cancelled,executable[url]\n');
      }
      if (rest[2] === 'api' && rest[3] === 'json') return json(res, url, state.queueItemJson(entry, now));
    }
    return sendError(res, 404, 'Not Found');
  }

  async function jobRoute(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    form: URLSearchParams,
    job: JobState,
    rest: string[],
    caller: Caller,
    now: number,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (rest.length === 0) {
      res.setHeader('content-type', 'text/html;charset=utf-8');
      return void res.end(`<html><head><title>${escapeHtml(job.node.fullName)} [Jenkins]</title></head><body></body></html>\n`);
    }
    if (rest[0] === 'api' && rest[1] === 'json') return json(res, url, state.jobJson(job, now, url.searchParams.has('tree')));
    if (rest[0] === 'build' || rest[0] === 'buildWithParameters') {
      return trigger(req, res, url, form, job, rest[0], caller, now);
    }
    const build = resolveBuild(job, rest[0] ?? '', now);
    if (!build) return sendError(res, 404, 'Not Found');
    const action = rest.slice(1).join('/');
    if (action === '') {
      res.setHeader('content-type', 'text/html;charset=utf-8');
      return void res.end(`<html><head><title>${escapeHtml(job.node.fullName)} #${build.number} [Jenkins]</title></head><body></body></html>\n`);
    }
    if (action === 'api/json') return json(res, url, state.buildJson(build, now));
    if (action === 'logText/progressiveText') return progressiveText(res, url, build, now);
    if (action === 'consoleText') {
      res.setHeader('content-type', 'text/plain;charset=UTF-8');
      // The raw log, streamed in windows: a 200 MB log never sits in memory whole.
      const available = state.available(build, now);
      const writeSize = options.consoleWriteBytes ?? 65_536;
      for (let offset = 0; offset < available && !res.destroyed; offset += writeSize) {
        if (!res.write(build.console.read(offset, Math.min(available, offset + writeSize)))) await drained(res);
      }
      return void res.end();
    }
    if (action === 'stop' || ((action === 'term' || action === 'kill') && job.kind === 'pipeline')) {
      if (method !== 'POST') return sendError(res, 405, 'Method Not Allowed', { allow: 'POST' });
      if (!caller.canBuild) return forbidden(res, caller, 'hudson.model.Item.Cancel');
      state.stop(build, caller.user, now);
      if (action === 'kill') build.endsAt = now;
      res.statusCode = 302;
      res.setHeader('location', absolute(req, `${job.node.urlPath}${build.number}/`));
      return void res.end();
    }
    return sendError(res, 404, 'Not Found');
  }

  function resolveBuild(job: JobState, ref: string, now: number): BuildRecord | undefined {
    const builds = [...job.builds].reverse();
    const done = builds.filter((build) => !state.building(build, now));
    switch (ref) {
      case 'lastBuild':
        return builds[0];
      case 'lastCompletedBuild':
        return done[0];
      case 'lastSuccessfulBuild':
        return done.find((build) => build.result === 'SUCCESS' || build.result === 'UNSTABLE');
      case 'lastFailedBuild':
        return done.find((build) => build.result === 'FAILURE');
      default:
        return /^\d+$/.test(ref) ? job.builds.find((build) => build.number === Number(ref)) : undefined;
    }
  }

  async function trigger(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    form: URLSearchParams,
    job: JobState,
    endpoint: 'build' | 'buildWithParameters',
    caller: Caller,
    now: number,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const parameterized = job.parameterDefaults !== undefined;
    if (method !== 'POST') {
      if (endpoint === 'build' && parameterized) {
        res.setHeader('content-type', 'text/html;charset=utf-8');
        return void res.end('<html><body><form method="post" action="build">parameters</form></body></html>\n');
      }
      return sendError(res, 405, 'Method Not Allowed', { allow: 'POST' });
    }
    const sent: Record<string, string> = {};
    const counts = new Map<string, number>();
    for (const source of [url.searchParams, form]) {
      for (const [name, value] of source) {
        sent[name] = value;
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
    }
    const recordTrigger = (status: number, queueId?: number): void => {
      const parameters = { ...sent };
      delete parameters.delay;
      delete parameters['Jenkins-Crumb'];
      triggers.push({ job: job.node.fullName, endpoint, parameters, queueId, status, user: caller.user });
    };
    if (!caller.canBuild) {
      recordTrigger(403);
      return forbidden(res, caller, 'hudson.model.Item.Build');
    }
    if (job.def.disabled) {
      recordTrigger(409);
      return sendError(res, 409, `${job.node.fullName} is not buildable`);
    }
    let requestedDelay: number | undefined;
    if (sent.delay !== undefined) {
      requestedDelay = parseDelay(sent.delay);
      if (requestedDelay === undefined) {
        recordTrigger(500);
        return sendError(res, 500, `Invalid time duration value: ${sent.delay}`);
      }
    }
    const delayMs = state.triggerDelayMs(job, requestedDelay);
    let params: Record<string, string> | undefined;
    if (endpoint === 'build') {
      if (parameterized) {
        const submitted = form.get('json');
        if (submitted === null) {
          recordTrigger(400);
          const nothing = [...url.searchParams.keys(), ...form.keys()].length === 0;
          return sendError(res, 400, nothing ? 'Nothing is submitted' : 'This page expects a form submission');
        }
        params = {};
        try {
          const parsed = JSON.parse(submitted) as { parameter?: Array<{ name: string; value: unknown }> | { name: string; value: unknown } };
          const list = Array.isArray(parsed.parameter) ? parsed.parameter : parsed.parameter ? [parsed.parameter] : [];
          for (const parameter of list) {
            if (!(parameter.name in (job.parameterDefaults ?? {}))) throw new Error(`No such parameter definition: ${parameter.name}`);
            params[parameter.name] = String(parameter.value);
          }
        } catch (error) {
          recordTrigger(500);
          return sendError(res, 500, error instanceof Error ? error.message : 'bad json');
        }
      }
    } else {
      if (!parameterized) {
        recordTrigger(400);
        return sendError(res, 400, `${job.node.fullName} is not parameterized`);
      }
      params = {};
      for (const [name, fallback] of Object.entries(job.parameterDefaults ?? {})) {
        if ((counts.get(name) ?? 0) > 1) {
          recordTrigger(500);
          return sendError(res, 500, `IllegalArgumentException: parameter ${name} given twice`);
        }
        params[name] = sent[name] ?? fallback;
      }
    }
    const { entry, existing } = state.enqueue(job, params, delayMs, caller.user, now);
    const faults = sandbox.faults;
    if (faults.unavailableAfterTrigger) {
      const { afterMs, durationMs } = faults.unavailableAfterTrigger;
      setTimeout(() => {
        sandbox.faults.unavailableUntil = Date.now() + durationMs;
      }, afterMs).unref();
    }
    const status = faults.triggerStatus ?? (existing && endpoint === 'buildWithParameters' ? 303 : 201);
    recordTrigger(status, entry.id);
    if (faults.triggerAnswerDelayMs) await sleep(faults.triggerAnswerDelayMs);
    if (faults.triggerStatus !== undefined) return sendError(res, faults.triggerStatus, 'Bad Gateway');
    res.statusCode = status;
    res.setHeader('location', absolute(req, `queue/item/${entry.id}/`));
    res.setHeader('content-length', '0');
    res.end();
  }

  async function progressiveText(res: ServerResponse, url: URL, build: BuildRecord, now: number): Promise<void> {
    const available = state.available(build, now);
    let start = Number(url.searchParams.get('start') ?? '0');
    if (!Number.isFinite(start) || start < 0) start = 0;
    if (start > available) start = 0; // LargeText: "text rolled over", resend everything
    res.statusCode = 200;
    res.setHeader('content-type', 'text/plain;charset=UTF-8');
    res.setHeader('x-text-size', String(available));
    const faults = sandbox.faults;
    if (state.building(build, now) || faults.moreDataForever) res.setHeader('x-more-data', 'true');
    const writeSize = options.consoleWriteBytes ?? 65_536;
    const dropAfter = faults.dropConsoleAfterBytes !== undefined && dropsDone < (faults.dropConsoleTimes ?? 1) ? faults.dropConsoleAfterBytes : undefined;
    let written = 0;
    let previous: number | undefined;
    for (let offset = start; offset < available; offset += writeSize) {
      const raw = build.console.read(offset, Math.min(available, offset + writeSize));
      let body = toCrlf(raw, previous);
      previous = raw[raw.length - 1];
      if (dropAfter !== undefined && written + body.length > dropAfter) {
        dropsDone++;
        body = body.subarray(0, dropAfter - written);
        stats.consoleBytesSent += body.length;
        if (body.length > 0) await new Promise<void>((resolve) => res.write(body, () => resolve()));
        res.socket?.destroy();
        return;
      }
      written += body.length;
      stats.consoleBytesSent += body.length;
      if (res.destroyed) return;
      if (!res.write(body)) await drained(res);
    }
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, error instanceof Error ? error.message : 'internal error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}${contextPath}/`;
  state.rootUrl = options.rootUrl ? options.rootUrl.replace(/\/?$/, '/') : baseUrl;

  const buildOf = (jobName: string, number: number): BuildRecord => {
    const job = state.jobByFullName(jobName);
    const build = job?.builds.find((candidate) => candidate.number === number);
    if (!build) throw new Error(`the Jenkins sandbox has no build ${jobName} #${number}`);
    return build;
  };

  return {
    url: baseUrl,
    triggers,
    requests,
    stats,
    get faults() {
      return sandbox.faults;
    },
    set faults(value: JenkinsSandboxFaults) {
      sandbox.faults = value;
    },
    console: (job, number) => readAll(buildOf(job, number).console),
    consoleSize: (job, number) => buildOf(job, number).console.size,
    unavailableFor(ms) {
      sandbox.faults.unavailableUntil = Date.now() + ms;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
