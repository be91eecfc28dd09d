/**
 * How requests authenticate, from a kubeconfig selection: plain credentials (token, token file,
 * client certificate, basic auth, impersonation) need nothing but node; an exec plugin or an
 * auth-provider (OIDC, …) is run by @kubernetes/client-node, imported only for such a user.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { UnreachableError } from '../errors.js';
import type { KubeconfigSelection } from './kubeconfig.js';

export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface KubeCredentials {
  /** `plain`: read by iac; `library`: a plugin run by @kubernetes/client-node. */
  via: 'plain' | 'library';
  tls: TlsOptions;
  /** Headers for the next request (a token file is re-read, a plugin's token refreshed). */
  headers(): Promise<Record<string, string | string[]>>;
}

/** client-go re-reads a token file at most once a minute. */
const TOKEN_FILE_TTL_MS = 60_000;

let libraryLoaded = false;

/** Whether @kubernetes/client-node was imported by this process (tests, benchmarks). */
export function kubeLibraryLoaded(): boolean {
  return libraryLoaded;
}

function baseTls(selection: KubeconfigSelection): TlsOptions {
  const { cluster } = selection;
  return {
    // An insecure cluster ignores its CA, as kubectl does.
    ...(cluster.ca !== undefined && !cluster.insecureSkipTlsVerify ? { ca: cluster.ca } : {}),
    ...(selection.user.cert !== undefined ? { cert: selection.user.cert } : {}),
    ...(selection.user.key !== undefined ? { key: selection.user.key } : {}),
    rejectUnauthorized: !cluster.insecureSkipTlsVerify,
    ...(cluster.tlsServerName !== undefined ? { servername: cluster.tlsServerName } : {}),
  };
}

function impersonation(selection: KubeconfigSelection): Record<string, string | string[]> {
  const { user } = selection;
  return {
    ...(user.impersonate !== undefined ? { 'Impersonate-User': user.impersonate } : {}),
    ...(user.impersonateGroups !== undefined ? { 'Impersonate-Group': user.impersonateGroups } : {}),
  };
}

function plainCredentials(selection: KubeconfigSelection, hint: HintFor): KubeCredentials {
  const { user } = selection;
  let cached: { token: string; at: number } | undefined;
  const fileToken = (path: string): string => {
    if (cached !== undefined && Date.now() - cached.at < TOKEN_FILE_TTL_MS) return cached.token;
    try {
      cached = { token: readFileSync(path, 'utf8').trim(), at: Date.now() };
    } catch (error) {
      // A token file that vanished keeps its last value, as in client-go; none yet is a credential problem.
      if (cached !== undefined) return cached.token;
      throw new UnreachableError('kube.credentials', `cannot read the token file ${path} of kubeconfig user "${user.name}": ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        hint: hint(['config', 'view', '--minify']),
      });
    }
    return cached.token;
  };
  return {
    via: 'plain',
    tls: baseTls(selection),
    async headers() {
      const headers: Record<string, string | string[]> = impersonation(selection);
      // client-go: a readable token file takes precedence over an inline token.
      const token = user.tokenFile !== undefined ? fileToken(user.tokenFile) : user.token;
      if (token !== undefined && token !== '') headers.Authorization = `Bearer ${token}`;
      else if (user.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      return headers;
    },
  };
}

/** An exec command with a path separator but not absolute is relative to its kubeconfig (client-go). */
function execFields(fields: Record<string, unknown>, dir: string): Record<string, unknown> {
  const command = typeof fields.command === 'string' ? fields.command : undefined;
  if (command === undefined || isAbsolute(command) || !command.includes(sep)) return fields;
  return { ...fields, command: join(dir, command) };
}

interface LibraryRequestOptions {
  headers?: Record<string, string | string[]>;
  auth?: string;
  cert?: Buffer | string;
  key?: Buffer | string;
}

async function libraryCredentials(selection: KubeconfigSelection, hint: HintFor): Promise<KubeCredentials> {
  const plugin = selection.user.plugin as NonNullable<KubeconfigSelection['user']['plugin']>;
  const k8s = await import('@kubernetes/client-node');
  libraryLoaded = true;
  const config = new k8s.KubeConfig();
  const { cluster, user } = selection;
  // The selection already follows kubectl's merge rules: hand the library just this context.
  config.loadFromOptions({
    clusters: [{ name: cluster.name, server: cluster.server, skipTLSVerify: cluster.insecureSkipTlsVerify }],
    users: [
      {
        name: user.name || 'user',
        ...(plugin.type === 'exec' ? { exec: execFields(plugin.fields, plugin.dir) } : { authProvider: plugin.fields }),
        ...(user.token !== undefined ? { token: user.token } : {}),
      },
    ],
    contexts: [{ name: selection.context, cluster: cluster.name, user: user.name || 'user' }],
    currentContext: selection.context,
  });
  const tls = baseTls(selection);
  return {
    via: 'library',
    tls,
    async headers() {
      const options: LibraryRequestOptions = {};
      try {
        await config.applyToHTTPSOptions(options as Parameters<typeof config.applyToHTTPSOptions>[0]);
      } catch (error) {
        throw new UnreachableError('kube.credentials', `cannot get credentials for kubeconfig context "${selection.context}": ${(error as Error).message.split('\n')[0]}`, {
          hint: hint(['auth', 'whoami']),
          cause: error,
        });
      }
      // A plugin may hand out a client certificate instead of a token.
      if (options.cert !== undefined && tls.cert === undefined) tls.cert = Buffer.from(options.cert);
      if (options.key !== undefined && tls.key === undefined) tls.key = Buffer.from(options.key);
      const headers: Record<string, string | string[]> = { ...impersonation(selection), ...(options.headers ?? {}) };
      if (options.auth !== undefined && headers.Authorization === undefined) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      return headers;
    },
  };
}

/** Builds a hint (a kubectl command against the configured target) from kubectl arguments. */
export type HintFor = (args: string[]) => string;

export async function credentialsFor(selection: KubeconfigSelection, hint: HintFor): Promise<KubeCredentials> {
  return selection.user.plugin === undefined ? plainCredentials(selection, hint) : libraryCredentials(selection, hint);
}
