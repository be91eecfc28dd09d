/**
 * Typed views of Jenkins JSON (queue items, builds, jobs), parsed defensively: Jenkins versions and
 * plugins add and omit fields, and old versions have no `_class` (protocols/jenkins.md §3, §4, §7).
 */
import type { JenkinsResult } from '../errors.js';

export type BuildResult = Exclude<JenkinsResult, 'CANCELLED'>;
export type QueueState = 'waiting' | 'blocked' | 'buildable' | 'stuck';

export type QueueItem =
  | { id: number; left: false; state: QueueState; why: string | null }
  | { id: number; left: true; cancelled: boolean; executable: { number: number; url: string } | undefined };

export interface Revision {
  sha: string;
  source: 'BuildData' | 'SCMRevisionAction';
  remoteUrls: string[];
}

export interface BuildInfo {
  number: number;
  url: string;
  /** Finished iff false (never judge by `result`, which Pipeline may set early). */
  building: boolean;
  /** Jenkins ≥ 2.369: true while the run (post-production included) is still writing; undefined when not exported. */
  inProgress: boolean | undefined;
  result: BuildResult | null;
  timestamp: number | undefined;
  durationMs: number;
  /** Jenkins' estimate from earlier builds (ms); undefined when it has none (-1). */
  estimatedDurationMs: number | undefined;
  queueId: number | undefined;
  revisions: Revision[];
  parameters: Record<string, string>;
}

export interface JobInfo {
  url: string;
  parameterNames: string[];
  buildable: boolean;
  lastBuild?: { number: number; url: string };
  inQueue: boolean;
}

type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const records = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isRecord) : []);

const RESULTS: readonly BuildResult[] = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'ABORTED', 'NOT_BUILT'];

function buildRef(value: unknown): { number: number; url: string } | undefined {
  if (!isRecord(value)) return undefined;
  const number = num(value.number);
  if (number === undefined) return undefined;
  return { number, url: str(value.url) ?? '' };
}

/** Thrown when a body is not the JSON object expected; the client turns it into an UnreachableError. */
export class UnexpectedJenkinsResponse extends Error {}

/** `GET /queue/item/N/api/json` → a queue item; `Queue$LeftItem` (started or cancelled) is `left`. */
export function parseQueueItem(json: unknown): QueueItem {
  if (!isRecord(json)) throw new UnexpectedJenkinsResponse('queue item is not a JSON object');
  const id = num(json.id);
  if (id === undefined) throw new UnexpectedJenkinsResponse('queue item has no id');
  const cls = str(json._class) ?? '';
  const isLeft = cls.endsWith('$LeftItem') || (cls === '' && ('cancelled' in json || 'executable' in json));
  if (isLeft) {
    return { id, left: true, cancelled: json.cancelled === true, executable: buildRef(json.executable) };
  }
  const why = str(json.why) ?? null;
  let state: QueueState;
  if (cls.endsWith('$BlockedItem') || json.blocked === true) state = 'blocked';
  else if (cls.endsWith('$BuildableItem') || json.buildable === true) state = json.stuck === true ? 'stuck' : 'buildable';
  else state = 'waiting';
  return { id, left: false, state, why };
}

/** Git revisions a build reports: git `BuildData.lastBuiltRevision` and scm-api `SCMRevisionAction`. */
export function extractRevisions(actions: unknown): Revision[] {
  const found: Revision[] = [];
  for (const action of records(actions)) {
    const last = action.lastBuiltRevision;
    if (isRecord(last) && str(last.SHA1)) {
      const remoteUrls = Array.isArray(action.remoteUrls) ? action.remoteUrls.filter((u): u is string => typeof u === 'string') : [];
      found.push({ sha: (last.SHA1 as string).toLowerCase(), source: 'BuildData', remoteUrls });
    }
    const revision = action.revision;
    if (isRecord(revision) && str(revision.hash)) {
      found.push({ sha: (revision.hash as string).toLowerCase(), source: 'SCMRevisionAction', remoteUrls: [] });
    }
  }
  return found;
}

/**
 * The revision that says which commit was built. Several `BuildData` actions are common (shared
 * libraries): prefer one matching the expected SHA, then the branch source's `SCMRevisionAction`,
 * then the first `BuildData`.
 */
export function pickRevision(revisions: Revision[], expectedSha?: string): Revision | undefined {
  if (expectedSha) {
    const expected = expectedSha.toLowerCase();
    const match = revisions.find((revision) => revision.sha === expected);
    if (match) return match;
  }
  return revisions.find((revision) => revision.source === 'SCMRevisionAction') ?? revisions[0];
}

function extractParameters(actions: unknown): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const action of records(actions)) {
    for (const parameter of records(action.parameters)) {
      const name = str(parameter.name);
      if (name !== undefined && parameter.value !== undefined) parameters[name] = String(parameter.value);
    }
  }
  return parameters;
}

function estimate(value: unknown): number | undefined {
  const ms = num(value);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/**
 * How long Jenkins says a queue item will wait, from its `why`: "In the quiet period. Expires in
 * 4.6 sec" or "Build #9 is already in progress (ETA: 15 sec)" / "(ETA:15 sec)" (older versions).
 * Minutes appear as "1 min 5 sec" / "2 min". undefined when the text holds no estimate.
 */
export function queueWaitHintMs(why: string | null): number | undefined {
  if (!why) return undefined;
  const match = /(?:Expires in|ETA:)\s*(?:(\d+(?:\.\d+)?)\s*min)?\s*(?:(\d+(?:\.\d+)?)\s*(?:sec|ms))?/.exec(why);
  if (!match || (match[1] === undefined && match[2] === undefined)) return undefined;
  const minutes = Number(match[1] ?? 0);
  const tail = Number(match[2] ?? 0);
  const isMs = /\d\s*ms\b/.test(match[0]);
  return Math.round(minutes * 60_000 + (isMs ? tail : tail * 1000));
}

/** `GET /job/…/N/api/json` → build status. */
export function parseBuild(json: unknown): BuildInfo {
  if (!isRecord(json)) throw new UnexpectedJenkinsResponse('build is not a JSON object');
  const number = num(json.number);
  if (number === undefined) throw new UnexpectedJenkinsResponse('build has no number');
  const result = RESULTS.find((candidate) => candidate === json.result) ?? null;
  return {
    number,
    url: str(json.url) ?? '',
    // Absent `building` on an object with a result means finished; absent both means still running.
    building: typeof json.building === 'boolean' ? json.building : result === null,
    inProgress: typeof json.inProgress === 'boolean' ? json.inProgress : undefined,
    result,
    timestamp: num(json.timestamp),
    durationMs: num(json.duration) ?? 0,
    estimatedDurationMs: estimate(json.estimatedDuration),
    queueId: num(json.queueId),
    revisions: extractRevisions(json.actions),
    parameters: extractParameters(json.actions),
  };
}

/** Parameter names from `property[]` (and `actions[]`) `parameterDefinitions`: a job is parameterized iff any exist. */
export function parameterNames(json: Json): string[] {
  const names = new Set<string>();
  for (const holder of [...records(json.property), ...records(json.actions)]) {
    for (const definition of records(holder.parameterDefinitions)) {
      const name = str(definition.name);
      if (name !== undefined) names.add(name);
    }
  }
  return [...names];
}

/** True when the job has a `ParametersDefinitionProperty` (even with zero definitions it takes buildWithParameters). */
export function isParameterized(json: Json): boolean {
  return [...records(json.property), ...records(json.actions)].some((holder) => Array.isArray(holder.parameterDefinitions));
}

/** `GET /job/…/api/json` → what the client needs to trigger and report. */
export function parseJob(json: unknown): JobInfo & { parameterized: boolean } {
  if (!isRecord(json)) throw new UnexpectedJenkinsResponse('job is not a JSON object');
  const info: JobInfo & { parameterized: boolean } = {
    url: str(json.url) ?? '',
    parameterNames: parameterNames(json),
    parameterized: isParameterized(json),
    // Folders and multibranch projects have no `buildable`; they cannot be built as jobs.
    buildable: json.buildable === true,
    inQueue: json.inQueue === true,
  };
  const lastBuild = buildRef(json.lastBuild);
  if (lastBuild) info.lastBuild = lastBuild;
  return info;
}
