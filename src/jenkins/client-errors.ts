/**
 * The errors JenkinsClient raises, one line each, never with a secret: the URL shown is the base
 * URL without credentials, the user name is not a secret, tokens never reach these functions.
 */
import { PreflightError, UnreachableError, UsageError } from '../errors.js';
import { type JobRef, describeJob } from './paths.js';
import type { HttpResponse } from './transport.js';
import { remoteLine } from '../util/terminal-text.js';

export const AUTH_HINT =
  'set IAC_JENKINS_USER and IAC_JENKINS_TOKEN (an API token from your Jenkins user page → Security), or add a ~/.netrc entry for the Jenkins host';

/** 401 (bad credentials) or 403 (anonymous, or a missing permission named by X-Required-Permission). */
export function authError(baseUrl: string, user: string | undefined, response: HttpResponse): UnreachableError {
  if (response.status === 401) {
    return new UnreachableError('jenkins.unauthorized', `Jenkins at ${baseUrl} rejected the credentials${user ? ` of user ${user}` : ''} (401)`, {
      hint: AUTH_HINT,
    });
  }
  const rawWho = response.header('x-you-are-authenticated-as');
  const rawPermission = response.header('x-required-permission');
  const who = rawWho === undefined ? undefined : remoteLine(rawWho, 80);
  const permission = rawPermission === undefined ? undefined : remoteLine(rawPermission, 120);
  if (!who || who === 'anonymous') {
    return new UnreachableError('jenkins.forbidden', `Jenkins at ${baseUrl} requires authentication (403)`, { hint: AUTH_HINT });
  }
  return new UnreachableError(
    'jenkins.forbidden',
    `Jenkins at ${baseUrl}: user ${who} lacks ${permission ? `the ${permission} permission` : 'a permission'} (403)`,
    { hint: `ask a Jenkins administrator to grant ${permission ?? 'the permission'} to ${who}, or use another user's token` },
  );
}

/** Any other unexpected status; 5xx is coded `jenkins.unavailable` (a restart: followBuild waits it out). */
export function statusError(baseUrl: string, response: HttpResponse, what: string): UnreachableError {
  const code = response.status >= 500 ? 'jenkins.unavailable' : 'jenkins.http-error';
  return new UnreachableError(code, `Jenkins at ${baseUrl} answered ${response.status} ${response.statusText} for ${what}`.trim(), {
    hint: response.status === 503 ? 'Jenkins is starting or restarting; run the command again in a minute' : `check ${baseUrl} in a browser`,
  });
}

/**
 * A redirect where Jenkins answers directly: a single-sign-on front end sending an unauthenticated
 * request to its login page. Whether a POST took effect is unknown (exit 4), never a Jenkins verdict.
 */
export function loginRedirect(baseUrl: string, location: string | undefined, what: string): UnreachableError {
  let target = 'another page';
  if (location) {
    try {
      const url = new URL(location, baseUrl);
      target = remoteLine(`${url.origin}${url.pathname}`, 120);
    } catch {
      target = remoteLine(location, 120);
    }
  }
  return new UnreachableError('jenkins.login-redirect', `Jenkins at ${baseUrl} redirected ${what} to ${target}, most likely a login page: the request was not authenticated`, {
    hint: `use an API token, which single sign-on lets through: ${AUTH_HINT}`,
  });
}

export function unexpectedAnswer(baseUrl: string, error: unknown): UnreachableError {
  const what = error instanceof Error ? error.message : 'unexpected answer';
  return new UnreachableError('jenkins.unexpected-response', `Jenkins at ${baseUrl} gave an unexpected answer: ${what}`, {
    hint: `check that ${baseUrl} is a Jenkins server (its pages carry an X-Jenkins header)`,
  });
}

export function jobNotFound(baseUrl: string, job: JobRef, jobUrl: string): UsageError {
  return new UsageError('jenkins.job-not-found', `Jenkins job ${describeJob(job)} not found at ${baseUrl}`, {
    hint: `check jenkins.job in iac.yaml (folders are separated by "/"; for a multibranch branch set multibranch: true) and that the user can see ${jobUrl}`,
  });
}

export function notBuildable(job: JobRef, jobUrl: string): PreflightError {
  return new PreflightError('jenkins.not-buildable', `Jenkins job ${describeJob(job)} is not buildable (disabled, or a folder)`, {
    hint: `enable the job at ${jobUrl}, or point jenkins.job at a buildable job`,
  });
}

/** A trigger POST answered with neither 201/303 nor a queue Location. */
export function triggerRejected(baseUrl: string, job: JobRef, jobUrl: string, status: number, statusText: string): Error {
  const name = describeJob(job);
  if (status === 404) return jobNotFound(baseUrl, job, jobUrl);
  if (status === 409) return notBuildable(job, jobUrl);
  if (status === 400 || status === 405) {
    return new UsageError('jenkins.trigger-rejected', `Jenkins refused to queue ${name}: ${status} ${statusText}`.trim(), {
      hint: `check the job's parameters at ${jobUrl} against jenkins.parameters in iac.yaml`,
    });
  }
  return new UnreachableError('jenkins.trigger-unknown', `Jenkins answered ${status} ${statusText} to the trigger of ${name}: a build may or may not be queued`.trim(), {
    hint: `open ${jobUrl} to see whether a build started before running the command again`,
  });
}
