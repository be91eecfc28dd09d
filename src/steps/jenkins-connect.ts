import type { EnvironmentTarget } from '../config/resolve.js';
import type { JenkinsClient, RetryPolicy } from '../jenkins/client.js';
import { jobRefFromConfig, type JobRef } from '../jenkins/paths.js';

export type JenkinsSettings = NonNullable<EnvironmentTarget['jenkins']>;

/**
 * A Jenkins client for an environment, with credentials from IAC_JENKINS_USER/IAC_JENKINS_TOKEN or
 * ~/.netrc. The token — and the `user:token` pair and its base64, the Authorization header's
 * value — is handed to `secret` first so it is masked everywhere.
 */
export async function connectJenkins(
  settings: JenkinsSettings,
  env: NodeJS.ProcessEnv,
  secret: (value: string) => void,
  retry?: RetryPolicy,
): Promise<JenkinsClient> {
  const { JenkinsClient } = await import('../jenkins/client.js');
  const { resolveJenkinsCredentials } = await import('../jenkins/credentials.js');
  const credentials = resolveJenkinsCredentials({ env, url: settings.url });
  if (credentials) {
    secret(credentials.token);
    secret(`${credentials.user}:${credentials.token}`);
    secret(Buffer.from(`${credentials.user}:${credentials.token}`, 'utf8').toString('base64'));
  }
  return new JenkinsClient({
    baseUrl: settings.url,
    ...(credentials ? { user: credentials.user, token: credentials.token } : {}),
    allowInsecureHttp: settings.allowInsecureHttp,
    ...(retry ? { retry } : {}),
  });
}

export function jobOf(settings: JenkinsSettings, branch: string): JobRef {
  return jobRefFromConfig(settings.job, settings.multibranch, branch);
}
