/**
 * jenkins: credentials found (and where), Jenkins reachable, the credentials accepted, the job there
 * and buildable. One GET of the job answers the last three; each check reads its own part of it.
 */
import type { EnvironmentTarget } from '../config/resolve.js';
import { isIacError } from '../errors.js';
import { AUTH_HINT } from '../jenkins/client-errors.js';
import type { JenkinsCredentials } from '../jenkins/credentials.js';
import type { JobInfo } from '../jenkins/model.js';
import { describeJob } from '../jenkins/paths.js';
import { jobOf } from '../steps/jenkins-connect.js';
import { fail, pass, probeSignal, settle, warn, type CheckOutcome, type CheckSpec, type ProbeContext } from './types.js';

type JenkinsSettings = NonNullable<EnvironmentTarget['jenkins']>;

export interface JenkinsCheckOptions extends ProbeContext {
  env: NodeJS.ProcessEnv;
  /** Masks the token wherever it might appear. */
  secret: (value: string) => void;
}

const AUTH_CODES = new Set(['jenkins.unauthorized', 'jenkins.forbidden']);
const JOB_CODES = new Set(['jenkins.job-not-found', 'jenkins.not-buildable']);

type Stage = 'reach' | 'auth' | 'job';

/** Which check a failed job GET belongs to: auth refusals, job problems, everything else is reachability. */
function stageOf(error: unknown): Stage {
  if (isIacError(error) && AUTH_CODES.has(error.code)) return 'auth';
  if (isIacError(error) && JOB_CODES.has(error.code)) return 'job';
  return 'reach';
}

export function jenkinsChecks(envName: string, branch: string, settings: JenkinsSettings, options: JenkinsCheckOptions): CheckSpec[] {
  const job = jobOf(settings, branch);
  const connected = settle(async () => {
    const { JenkinsClient } = await import('../jenkins/client.js');
    const { resolveJenkinsCredentials } = await import('../jenkins/credentials.js');
    const credentials = resolveJenkinsCredentials({ env: options.env, url: settings.url });
    if (credentials) {
      options.secret(credentials.token);
      options.secret(Buffer.from(`${credentials.user}:${credentials.token}`, 'utf8').toString('base64'));
    }
    // A doctor answers quickly: no retries, and each request bounded by the check's deadline.
    const client = new JenkinsClient({
      baseUrl: settings.url,
      ...(credentials ? { user: credentials.user, token: credentials.token } : {}),
      allowInsecureHttp: settings.allowInsecureHttp,
      retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      requestTimeoutMs: options.timeoutMs,
    });
    return { client, credentials };
  });
  const probed = settle(async (): Promise<JobInfo> => {
    const connection = await connected();
    if (!connection.ok) throw connection.error;
    return connection.value.client.getJob(job, probeSignal(options));
  });
  /** The job GET's error when it belongs to `stage`; earlier stages have their own checks. */
  const probe = async (stage: Stage): Promise<JobInfo | undefined> => {
    const answer = await probed();
    if (answer.ok) return answer.value;
    if (stageOf(answer.error) === stage) throw answer.error;
    return undefined;
  };

  const credentials: CheckSpec = {
    id: 'jenkins.credentials',
    env: envName,
    label: 'jenkins credentials',
    async run() {
      const connection = await connected();
      if (!connection.ok) throw connection.error; // e.g. plain http to a remote host
      return describeCredentials(connection.value.credentials);
    },
  };
  const reachable: CheckSpec = {
    id: 'jenkins.reachable',
    env: envName,
    label: 'jenkins reachable',
    requires: [credentials],
    async run() {
      await probe('reach');
      return pass(`${connectedUrl(settings)} answers`);
    },
  };
  const auth: CheckSpec = {
    id: 'jenkins.auth',
    env: envName,
    label: 'jenkins auth',
    requires: [reachable],
    hint: AUTH_HINT,
    async run() {
      await probe('auth');
      const connection = await connected();
      const user = connection.ok ? connection.value.credentials?.user : undefined;
      return pass(user !== undefined ? `credentials of ${user} accepted` : 'anonymous access accepted');
    },
  };
  const jobCheck: CheckSpec = {
    id: 'jenkins.job',
    env: envName,
    label: 'jenkins job',
    requires: [auth],
    async run() {
      const info = await probe('job');
      if (info === undefined) return fail(`${describeJob(job)}: no answer`);
      if (!info.buildable) {
        return fail(`${describeJob(job)} is not buildable (disabled, or a folder)`, `enable it at ${info.url}, or point jenkins.job in iac.yaml at a buildable job`);
      }
      return pass(`${describeJob(job)} exists and is buildable`);
    },
  };
  return [credentials, reachable, auth, jobCheck];
}

function connectedUrl(settings: JenkinsSettings): string {
  return settings.url.replace(/\/\/[^/@]*@/, '//');
}

function describeCredentials(credentials: JenkinsCredentials | undefined): CheckOutcome {
  if (credentials === undefined) {
    return warn('none found: requests go to Jenkins anonymously', AUTH_HINT);
  }
  const where = credentials.source === 'env' ? 'IAC_JENKINS_USER / IAC_JENKINS_TOKEN' : '~/.netrc';
  return pass(`user ${credentials.user} from ${where}`);
}
