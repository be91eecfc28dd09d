/**
 * Jenkins URL building, exactly as Jenkins spells its own URLs (protocols/jenkins.md §0):
 * each item name is `Util.rawEncode`d; a multibranch branch job's name is first escaped with
 * branch-api's `NameEncoder`, so `feature/x` ends up double-encoded as `feature%252Fx` in the URL.
 */

/**
 * A job as the rest of iac names it: a folder path (`shop/deploy`), optionally a branch of a
 * multibranch project (`{ path: 'shop', branch: 'feature/x' }`).
 */
export type JobRef = string | { path: string; branch?: string };

/** Characters `Util.rawEncode` leaves alone (core `hudson/Util.java`, `uriMap`). */
const RAW_SAFE = /[A-Za-z0-9!$&'()*+,\-.=@_]/;

/** `Util.rawEncode`: %-encode (UTF-8) everything outside the safe set, including `%`, `/`, space and non-ASCII. */
export function rawEncode(name: string): string {
  let out = '';
  for (const char of name) {
    if (RAW_SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const NAME_ENCODER_MAP: Record<string, string> = {
  '#': '%23',
  '%': '%25',
  '/': '%2F',
  '?': '%3F',
  '[': '%5B',
  ']': '%5D',
  '\\': '%5C',
};

/** branch-api `NameEncoder.encode`: the job *name* Jenkins gives a branch of a multibranch project. */
export function encodeBranchName(branch: string): string {
  if (branch === '') return '%00';
  if (branch === '.') return '%2E';
  if (branch === '..') return '%2E.';
  let out = '';
  for (const char of branch) out += NAME_ENCODER_MAP[char] ?? char;
  return out;
}

/** Inverse of {@link encodeBranchName}, used by the sandbox to show branch names. */
export function decodeBranchName(name: string): string {
  if (name === '%00') return '';
  if (name === '%2E') return '.';
  if (name === '%2E.') return '..';
  return name.replace(/%(23|25|2F|3F|5B|5D|5C)/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Splits a folder path into item names; empty segments (`a//b`, leading or trailing `/`) are ignored. */
export function jobPathSegments(jobPath: string): string[] {
  return jobPath.split('/').filter((segment) => segment !== '');
}

/**
 * `a/b` → `/job/a/job/b/`; with `multibranchBranch: 'feature/x'` the branch job is appended:
 * `/job/a/job/b/job/feature%252Fx/`. The result is relative to the Jenkins root (context path excluded).
 */
export function jobUrlPath(jobPath: string, opts: { multibranchBranch?: string } = {}): string {
  const names = jobPathSegments(jobPath);
  if (opts.multibranchBranch !== undefined) names.push(encodeBranchName(opts.multibranchBranch));
  return `/${names.map((name) => `job/${rawEncode(name)}/`).join('')}`;
}

/** The path of a {@link JobRef}: see {@link jobUrlPath}. */
export function jobRefUrlPath(job: JobRef): string {
  if (typeof job === 'string') return jobUrlPath(job);
  return jobUrlPath(job.path, job.branch === undefined ? {} : { multibranchBranch: job.branch });
}

/** How a job is named in messages: `shop/deploy`, `shop » feature/x`. */
export function describeJob(job: JobRef): string {
  if (typeof job === 'string') return jobPathSegments(job).join('/');
  const path = jobPathSegments(job.path).join('/');
  return job.branch === undefined ? path : `${path} » ${job.branch}`;
}

/**
 * The configured `job` of an environment as a {@link JobRef}. With `multibranch`, the branch is the
 * configured branch when the path ends with it (branches may contain `/`), else the last segment.
 */
export function jobRefFromConfig(job: string, multibranch: boolean, branch?: string): JobRef {
  if (!multibranch) return job;
  const trimmed = job.replace(/\/+$/, '');
  if (branch !== undefined && trimmed.endsWith(`/${branch}`)) {
    return { path: trimmed.slice(0, -branch.length - 1), branch };
  }
  const cut = trimmed.lastIndexOf('/');
  if (cut < 0) return { path: '', branch: trimmed };
  return { path: trimmed.slice(0, cut), branch: trimmed.slice(cut + 1) };
}

/** The base URL with exactly one trailing slash, so relative paths keep any context path (`/jenkins/`). */
export function normalizeBaseUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.search = '';
  url.hash = '';
  url.username = '';
  url.password = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url.toString();
}

/** Joins a root-relative path (`/job/a/`, `queue/item/3/api/json`) under the base URL, keeping the context path. */
export function resolveUnderBase(baseUrl: string, path: string): string {
  return new URL(path.replace(/^\/+/, ''), normalizeBaseUrl(baseUrl)).toString();
}

/** Queue id from a trigger's `Location` (`…/queue/item/25/`); undefined when it is not a queue item URL. */
export function queueIdFromLocation(location: string | null | undefined): number | undefined {
  if (!location) return undefined;
  const match = /\/queue\/item\/(\d+)\/?$/.exec(location.split('?')[0] ?? '');
  return match ? Number(match[1]) : undefined;
}
