/**
 * Where Jenkins credentials come from: IAC_JENKINS_USER / IAC_JENKINS_TOKEN, else ~/.netrc
 * (the entry for the Jenkins host, else `default`). Never from iac.yaml.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface JenkinsCredentials {
  user: string;
  token: string;
  source: 'env' | 'netrc';
}

export interface NetrcEntry {
  /** undefined for the `default` entry. */
  machine: string | undefined;
  login?: string;
  password?: string;
}

/** Parses netrc text (`machine`, `login`, `password`, `account`, `default`; `macdef` bodies are skipped). */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const tokens: string[] = [];
  let inMacro = false;
  for (const line of text.split(/\r?\n/)) {
    // A macdef body runs until the next empty line and holds no credentials.
    if (inMacro) {
      if (line.trim() === '') inMacro = false;
      continue;
    }
    const lineTokens = line.split(/\s+/).filter((token) => token !== '');
    const macro = lineTokens.indexOf('macdef');
    if (macro >= 0) {
      tokens.push(...lineTokens.slice(0, macro));
      inMacro = true;
    } else {
      tokens.push(...lineTokens);
    }
  }
  let current: NetrcEntry | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === 'machine') {
      current = { machine: tokens[++i] };
      entries.push(current);
    } else if (token === 'default') {
      current = { machine: undefined };
      entries.push(current);
    } else if (token === 'login' && current) {
      current.login = tokens[++i];
    } else if (token === 'password' && current) {
      current.password = tokens[++i];
    } else if (token === 'account') {
      i++;
    }
  }
  return entries;
}

function netrcFor(url: string, netrcPath: string): JenkinsCredentials | undefined {
  let text: string;
  try {
    text = readFileSync(netrcPath, 'utf8');
  } catch {
    return undefined;
  }
  const { hostname, host } = new URL(url);
  const entries = parseNetrc(text);
  const match =
    entries.find((entry) => entry.machine === host) ??
    entries.find((entry) => entry.machine === hostname) ??
    entries.find((entry) => entry.machine === undefined);
  if (!match?.login || !match.password) return undefined;
  return { user: match.login, token: match.password, source: 'netrc' };
}

/**
 * Credentials for the Jenkins at `url`, or undefined (anonymous: the client then uses crumbs).
 * Both environment variables must be set to count; a half-set pair falls through to ~/.netrc.
 */
export function resolveJenkinsCredentials(opts: {
  env: NodeJS.ProcessEnv;
  url: string;
  netrcPath?: string;
}): JenkinsCredentials | undefined {
  const user = opts.env.IAC_JENKINS_USER;
  const token = opts.env.IAC_JENKINS_TOKEN;
  if (user && token) return { user, token, source: 'env' };
  const netrcPath = opts.netrcPath ?? join(opts.env.HOME ?? homedir(), '.netrc');
  return netrcFor(opts.url, netrcPath);
}
