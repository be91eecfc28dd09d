import { hostname, userInfo } from 'node:os';
import { runGit } from '../git/run.js';

/**
 * Who runs iac, as history shows it: the git identity ("Ana Lima <ana@example.com>") the user's
 * commits carry, else the OS login.
 */
export async function whoRuns(cwd: string): Promise<{ user: string; host: string }> {
  const host = hostname();
  // What `git var GIT_COMMITTER_IDENT` answers when both are set (they win over any config): no git call.
  const { GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email } = process.env;
  if (name && email) return { user: `${name} <${email}>`, host };
  try {
    const ident = (await runGit(cwd, ['var', 'GIT_COMMITTER_IDENT'])).stdout.trim();
    const user = /^(.*?<[^>]*>)/.exec(ident)?.[1];
    if (user) return { user, host };
  } catch {
    // no identity configured
  }
  let login = 'unknown';
  try {
    login = userInfo().username;
  } catch {
    // no passwd entry (containers)
  }
  return { user: login, host };
}
