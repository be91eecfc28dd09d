/**
 * Reads kubeconfig files the way kubectl (client-go clientcmd) does, without @kubernetes/client-node
 * (whose import costs ~0.5 s of CPU): the explicit file, else every file of $KUBECONFIG merged
 * (missing ones skipped; for clusters, users and contexts the first file to define a name wins, as
 * does the first file to set current-context), else ~/.kube/config, else the in-cluster service
 * account. Relative paths are resolved against the file that holds them. Plain credentials
 * (token, token file, client certificate/key, basic auth, impersonation) are applied here; a user
 * with an exec plugin or an auth-provider is handed to the library (see credentials.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UsageError } from '../errors.js';
import { kubectlHint } from './kubectl-argv.js';

/** A kubeconfig larger than this is not a kubeconfig. */
const MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024;
const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Fields = Record<string, unknown>;

export interface NamedEntry {
  name: string;
  fields: Fields;
  /** The directory of the file that defined it (relative paths resolve from there). */
  dir: string;
}

export interface KubeconfigCluster {
  name: string;
  server: string;
  /** PEM bytes, from certificate-authority-data or the certificate-authority file. */
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

export interface KubeconfigUser {
  name: string;
  token?: string;
  /** Absolute path; read (and re-read) when requests are made. */
  tokenFile?: string;
  cert?: Buffer;
  key?: Buffer;
  username?: string;
  password?: string;
  impersonate?: string;
  impersonateGroups?: string[];
  /** The user authenticates through a plugin only @kubernetes/client-node runs. */
  plugin?: { type: 'exec' | 'auth-provider'; fields: Fields; dir: string };
}

export interface KubeconfigSelection {
  /** The files that were read, in precedence order (empty for in-cluster). */
  files: string[];
  context: string;
  /** The context's namespace, if it names one. */
  namespace?: string;
  cluster: KubeconfigCluster;
  user: KubeconfigUser;
}

export interface ReadKubeconfigOptions {
  /** Explicit file (iac.yaml `kubeconfig`, like `kubectl --kubeconfig`): the only file read. */
  kubeconfigPath?: string;
  /** Context to use instead of current-context. */
  context?: string;
  /** Environment for KUBECONFIG, HOME and the in-cluster variables. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** A problem found while reading; readKubeconfig turns it into a UsageError whose hint reads the same file. */
class KubeconfigProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** kubectl arguments of the hint, or a plain hint text. */
    readonly fix: string[] | string = ['config', 'view'],
  ) {
    super(message);
  }
}

function configError(code: string, message: string, fix?: string[] | string): KubeconfigProblem {
  return new KubeconfigProblem(code, message, fix);
}

function asRecord(value: unknown): Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {};
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

interface ParsedFile {
  path: string;
  currentContext?: string;
  clusters: NamedEntry[];
  users: NamedEntry[];
  contexts: NamedEntry[];
}

function parseFile(path: string): ParsedFile {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw configError('kube.kubeconfig', `kubeconfig ${path} is not a regular file`);
    if (stat.size > MAX_KUBECONFIG_BYTES) throw configError('kube.kubeconfig', `kubeconfig ${path} is larger than ${MAX_KUBECONFIG_BYTES / 1024 / 1024} MB`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof KubeconfigProblem) throw error;
    throw configError('kube.kubeconfig', `cannot read the kubeconfig ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw configError('kube.kubeconfig', `cannot parse the kubeconfig ${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const root = asRecord(document);
  const dir = dirname(resolve(path));
  // kubeconfig lists are `- name: x\n  cluster: {...}`; entries without a name are skipped as client-go does.
  const entries = (key: string, field: string): NamedEntry[] => {
    const list = Array.isArray(root[key]) ? (root[key] as unknown[]) : [];
    return list.flatMap((item) => {
      const record = asRecord(item);
      const name = asString(record.name);
      return name === undefined ? [] : [{ name, fields: asRecord(record[field]), dir }];
    });
  };
  const currentContext = asString(root['current-context']);
  return {
    path,
    ...(currentContext === undefined ? {} : { currentContext }),
    clusters: entries('clusters', 'cluster'),
    users: entries('users', 'user'),
    contexts: entries('contexts', 'context'),
  };
}

/** The files kubectl would read, in precedence order, and whether they came from an explicit path. */
export function kubeconfigFiles(options: ReadKubeconfigOptions = {}): string[] {
  if (options.kubeconfigPath !== undefined) {
    if (!existsSync(options.kubeconfigPath)) {
      throw configError('kube.kubeconfig', `the kubeconfig ${options.kubeconfigPath} does not exist`, 'check kubernetes.kubeconfig in iac.yaml');
    }
    return [options.kubeconfigPath];
  }
  const env = options.env ?? process.env;
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((file) => file !== '');
  if (list.length > 0) return [...new Set(list)].filter((file) => existsSync(file));
  const home = env.HOME ?? homedir();
  const fallback = join(home, '.kube', 'config');
  return existsSync(fallback) ? [fallback] : [];
}

/** First definition of each name wins; so does the first current-context. */
function merge(files: ParsedFile[]): { currentContext?: string; clusters: Map<string, NamedEntry>; users: Map<string, NamedEntry>; contexts: Map<string, NamedEntry> } {
  const clusters = new Map<string, NamedEntry>();
  const users = new Map<string, NamedEntry>();
  const contexts = new Map<string, NamedEntry>();
  let currentContext: string | undefined;
  for (const file of files) {
    currentContext ??= file.currentContext;
    for (const entry of file.clusters) if (!clusters.has(entry.name)) clusters.set(entry.name, entry);
    for (const entry of file.users) if (!users.has(entry.name)) users.set(entry.name, entry);
    for (const entry of file.contexts) if (!contexts.has(entry.name)) contexts.set(entry.name, entry);
  }
  return { ...(currentContext === undefined ? {} : { currentContext }), clusters, users, contexts };
}

function pathIn(dir: string, value: string): string {
  return isAbsolute(value) ? value : join(dir, value);
}

function readBytes(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw configError('kube.kubeconfig', `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function decodeData(what: string, owner: string, value: string): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0) throw configError('kube.kubeconfig', `${what} of ${owner} is not base64 data`);
  return bytes;
}

/** `*-data` (base64) or the file named by the plain key; both given is an error, as in client-go. */
function dataOrFile(entry: NamedEntry, fileKey: string, dataKey: string, what: string, kind: string): Buffer | undefined {
  const data = asString(entry.fields[dataKey]);
  const file = asString(entry.fields[fileKey]);
  if (data !== undefined && file !== undefined) {
    throw configError('kube.kubeconfig', `${dataKey} and ${fileKey} are both specified for ${kind} ${entry.name}`);
  }
  if (data !== undefined) return decodeData(dataKey, `${kind} ${entry.name}`, data);
  if (file !== undefined) return readBytes(what, pathIn(entry.dir, file));
  return undefined;
}

function clusterOf(entry: NamedEntry): KubeconfigCluster {
  const server = asString(entry.fields.server);
  if (server === undefined) throw configError('kube.cluster', `cluster ${entry.name} has no server`);
  const tlsServerName = asString(entry.fields['tls-server-name']);
  const proxyUrl = asString(entry.fields['proxy-url']);
  const ca = dataOrFile(entry, 'certificate-authority', 'certificate-authority-data', 'the certificate authority', 'cluster');
  return {
    name: entry.name,
    server: server.replace(/\/+$/, ''),
    ...(ca === undefined ? {} : { ca }),
    insecureSkipTlsVerify: entry.fields['insecure-skip-tls-verify'] === true,
    ...(tlsServerName === undefined ? {} : { tlsServerName }),
    ...(proxyUrl === undefined ? {} : { proxyUrl }),
  };
}

function userOf(entry: NamedEntry | undefined, name: string): KubeconfigUser {
  if (entry === undefined) return { name };
  const fields = entry.fields;
  const user: KubeconfigUser = { name };
  const token = asString(fields.token);
  const tokenFile = asString(fields.tokenFile) ?? asString(fields['token-file']);
  if (token !== undefined) user.token = token;
  if (tokenFile !== undefined) user.tokenFile = pathIn(entry.dir, tokenFile);
  const cert = dataOrFile(entry, 'client-certificate', 'client-certificate-data', 'the client certificate', 'user');
  const key = dataOrFile(entry, 'client-key', 'client-key-data', 'the client key', 'user');
  if (cert !== undefined) user.cert = cert;
  if (key !== undefined) user.key = key;
  if ((cert === undefined) !== (key === undefined)) {
    throw configError('kube.kubeconfig', `user ${name} has a client ${cert === undefined ? 'key' : 'certificate'} but no client ${cert === undefined ? 'certificate' : 'key'}`);
  }
  const username = asString(fields.username);
  const password = typeof fields.password === 'string' ? fields.password : undefined;
  if (username !== undefined) user.username = username;
  if (password !== undefined) user.password = password;
  const as = asString(fields.as);
  if (as !== undefined) user.impersonate = as;
  const groups = Array.isArray(fields['as-groups']) ? (fields['as-groups'] as unknown[]).filter((g): g is string => typeof g === 'string') : [];
  if (groups.length > 0) user.impersonateGroups = groups;
  if (fields.exec !== undefined && fields.exec !== null) user.plugin = { type: 'exec', fields: asRecord(fields.exec), dir: entry.dir };
  else if (fields['auth-provider'] !== undefined && fields['auth-provider'] !== null) {
    user.plugin = { type: 'auth-provider', fields: asRecord(fields['auth-provider']), dir: entry.dir };
  }
  // client-go's validation: one of token and basic auth; an exec plugin excludes an auth-provider.
  if (user.token !== undefined && (user.username !== undefined || user.password !== undefined)) {
    throw configError('kube.kubeconfig', `more than one authentication method found for ${name}; found [token basicAuth], only one is allowed`);
  }
  if (fields.exec != null && fields['auth-provider'] != null) {
    throw configError('kube.kubeconfig', `user ${name}: authProvider cannot be provided in combination with an exec plugin`);
  }
  return user;
}

/** The in-cluster service account, as client-go's rest.InClusterConfig reads it. */
function inCluster(env: NodeJS.ProcessEnv): KubeconfigSelection | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(IN_CLUSTER_DIR, 'token');
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const caFile = join(IN_CLUSTER_DIR, 'ca.crt');
  const namespaceFile = join(IN_CLUSTER_DIR, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return {
    files: [],
    context: 'in-cluster',
    ...(namespace ? { namespace } : {}),
    cluster: {
      name: 'in-cluster',
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ...(existsSync(caFile) ? { ca: readFileSync(caFile) } : {}),
      insecureSkipTlsVerify: false,
    },
    user: { name: 'in-cluster', tokenFile },
  };
}

/** The context to use and its cluster and user, fully resolved (files read, paths absolute). */
export function readKubeconfig(options: ReadKubeconfigOptions = {}): KubeconfigSelection {
  try {
    return select(options);
  } catch (error) {
    if (!(error instanceof KubeconfigProblem)) throw error;
    const hint =
      typeof error.fix === 'string'
        ? error.fix
        : kubectlHint({ ...(options.kubeconfigPath !== undefined ? { kubeconfigPath: options.kubeconfigPath } : {}), namespace: '' }, error.fix, { namespaced: false });
    throw new UsageError(error.code, error.message, { hint });
  }
}

function select(options: ReadKubeconfigOptions): KubeconfigSelection {
  const env = options.env ?? process.env;
  const files = kubeconfigFiles(options);
  if (files.length === 0) {
    const cluster = inCluster(env);
    if (cluster !== undefined && options.context === undefined) return cluster;
    throw configError('kube.kubeconfig', 'no kubeconfig found: KUBECONFIG names no existing file and ~/.kube/config does not exist', 'set kubernetes.kubeconfig in iac.yaml, or KUBECONFIG');
  }
  const merged = merge(files.map(parseFile));
  const contextName = options.context ?? merged.currentContext;
  if (contextName === undefined) {
    throw configError('kube.context', `the kubeconfig (${files.join(', ')}) sets no current-context`, 'set kubernetes.context in iac.yaml (contexts: kubectl config get-contexts)');
  }
  const context = merged.contexts.get(contextName);
  if (context === undefined) {
    const known = [...merged.contexts.keys()];
    throw configError('kube.context', `kubeconfig has no context "${contextName}" (known: ${known.join(', ') || 'none'})`, ['config', 'get-contexts']);
  }
  const clusterName = asString(context.fields.cluster);
  const clusterEntry = clusterName === undefined ? undefined : merged.clusters.get(clusterName);
  if (clusterEntry === undefined) {
    throw configError('kube.cluster', `kubeconfig context "${contextName}" names ${clusterName === undefined ? 'no cluster' : `cluster "${clusterName}", which is not defined`}`, ['config', 'get-contexts']);
  }
  const userName = asString(context.fields.user) ?? '';
  const namespace = asString(context.fields.namespace);
  return {
    files,
    context: contextName,
    ...(namespace === undefined ? {} : { namespace }),
    cluster: clusterOf(clusterEntry),
    user: userOf(merged.users.get(userName), userName),
  };
}
