/**
 * Conformance of iac's own kubeconfig reader (no @kubernetes/client-node) on a table of kubeconfigs:
 * the same server, CA, client certificate/key, token, basic auth, TLS options, proxy and namespace
 * as `kubectl config view --minify --flatten --raw` (the reference for the merge rules) and as
 * @kubernetes/client-node (where the library agrees with kubectl; where it does not, the case says
 * why). Then: a plain-credential user never loads the library; an exec user does, and works.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { credentialsFor } from '../../../src/kube/credentials.js';
import { readKubeconfig } from '../../../src/kube/kubeconfig.js';
import { toolAvailable } from '../../helpers/tools.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'iac-kubeconfig-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** What both readers must agree on (byte values as base64). */
interface Resolved {
  server: string;
  namespace: string | null;
  ca: string | null;
  cert: string | null;
  key: string | null;
  token: string | null;
  basic: string | null;
  insecure: boolean;
  tlsServerName: string | null;
  proxyUrl: string | null;
}

interface Case {
  name: string;
  /** Files relative to the case directory: YAML documents or raw text. */
  files: Record<string, object | string>;
  /** KUBECONFIG entries (relative to the case dir), or `explicit` for --kubeconfig. */
  kubeconfig?: string[];
  explicit?: string;
  /** ~/.kube/config under a HOME of the case dir (neither list nor explicit). */
  home?: boolean;
  context?: string;
  /** Why @kubernetes/client-node resolves it differently from kubectl (then it is not compared). */
  clientNodeDiverges?: string;
}

const pem = (what: string): string => `-----BEGIN ${what}-----\n${Buffer.from(`${what} bytes`).toString('base64')}\n-----END ${what}-----\n`;
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const config = (parts: { current?: string; clusters?: object[]; users?: object[]; contexts?: object[] }): object => ({
  apiVersion: 'v1',
  kind: 'Config',
  ...(parts.current ? { 'current-context': parts.current } : {}),
  clusters: parts.clusters ?? [],
  users: parts.users ?? [],
  contexts: parts.contexts ?? [],
});
const cluster = (name: string, fields: object) => ({ name, cluster: fields });
const user = (name: string, fields: object) => ({ name, user: fields });
const context = (name: string, cl: string, us: string, namespace?: string) => ({ name, context: { cluster: cl, user: us, ...(namespace ? { namespace } : {}) } });

const CASES: Case[] = [
  {
    name: 'token, CA data, explicit file',
    files: { 'kc.yaml': config({ current: 'dev', clusters: [cluster('c', { server: 'https://dev.example.com:6443', 'certificate-authority-data': b64(pem('CA')) })], users: [user('u', { token: 'tok-abc.123' })], contexts: [context('dev', 'c', 'u', 'shop')] }) },
    explicit: 'kc.yaml',
  },
  {
    name: 'client certificate and key files and a CA file, relative to the kubeconfig',
    files: {
      'conf/kc.yaml': config({ current: 'x', clusters: [cluster('c', { server: 'https://x.example.com', 'certificate-authority': 'pki/ca.pem' })], users: [user('u', { 'client-certificate': 'pki/client.crt', 'client-key': '../keys/client.key' })], contexts: [context('x', 'c', 'u')] }),
      'conf/pki/ca.pem': pem('CA'),
      'conf/pki/client.crt': pem('CERTIFICATE'),
      'keys/client.key': pem('PRIVATE KEY'),
    },
    explicit: 'conf/kc.yaml',
  },
  {
    name: 'client certificate and key data, insecure-skip-tls-verify, tls-server-name, proxy-url',
    files: {
      'kc.yaml': config({
        current: 'edge',
        clusters: [cluster('c', { server: 'https://10.0.0.1:6443', 'insecure-skip-tls-verify': true, 'tls-server-name': 'api.internal', 'proxy-url': 'http://proxy.example.com:3128' })],
        users: [user('u', { 'client-certificate-data': b64(pem('CERTIFICATE')), 'client-key-data': b64(pem('EC PRIVATE KEY')) })],
        contexts: [context('edge', 'c', 'u', 'edge-ns')],
      }),
    },
    explicit: 'kc.yaml',
  },
  {
    name: 'basic auth',
    files: { 'kc.yaml': config({ current: 'b', clusters: [cluster('c', { server: 'https://b.example.com' })], users: [user('u', { username: 'admin', password: 's3cret:x' })], contexts: [context('b', 'c', 'u')] }) },
    explicit: 'kc.yaml',
  },
  {
    name: 'token file relative to the kubeconfig',
    files: { 'kc/config': config({ current: 't', clusters: [cluster('c', { server: 'https://t.example.com' })], users: [user('u', { tokenFile: 'token' })], contexts: [context('t', 'c', 'u')] }), 'kc/token': 'file-token-1\n' },
    explicit: 'kc/config',
    clientNodeDiverges: 'reads a relative token-file from the working directory, not the kubeconfig\'s, and keeps its newline',
  },
  {
    name: 'a --context other than current-context',
    files: {
      'kc.yaml': config({
        current: 'dev',
        clusters: [cluster('dev', { server: 'https://dev.example.com' }), cluster('prod', { server: 'https://prod.example.com', 'certificate-authority-data': b64(pem('PROD CA')) })],
        users: [user('dev', { token: 'dev-token' }), user('prod', { token: 'prod-token' })],
        contexts: [context('dev', 'dev', 'dev', 'dev-ns'), context('prod', 'prod', 'prod', 'prod-ns')],
      }),
    },
    explicit: 'kc.yaml',
    context: 'prod',
  },
  {
    name: '~/.kube/config when KUBECONFIG is unset',
    files: { '.kube/config': config({ current: 'h', clusters: [cluster('c', { server: 'https://home.example.com' })], users: [user('u', { token: 'home-token' })], contexts: [context('h', 'c', 'u', 'home')] }) },
    home: true,
  },
  {
    name: 'KUBECONFIG list: current-context from the only file that sets it, entries from both',
    files: {
      'one.yaml': config({ clusters: [cluster('c1', { server: 'https://one.example.com' })], users: [user('u1', { token: 'one-token' })], contexts: [context('one', 'c1', 'u1')] }),
      'two.yaml': config({ current: 'two', clusters: [cluster('c2', { server: 'https://two.example.com' })], users: [user('u2', { token: 'two-token' })], contexts: [context('two', 'c2', 'u2', 'ns-two')] }),
    },
    kubeconfig: ['one.yaml', 'two.yaml'],
  },
  {
    name: 'KUBECONFIG list: a context in the first file using a user from the second',
    files: {
      'ctx.yaml': config({ current: 'mix', contexts: [context('mix', 'shared', 'creds', 'mixed')] }),
      'creds.yaml': config({ clusters: [cluster('shared', { server: 'https://shared.example.com', 'insecure-skip-tls-verify': true })], users: [user('creds', { token: 'cred-token' })] }),
    },
    kubeconfig: ['ctx.yaml', 'creds.yaml'],
  },
  {
    name: 'KUBECONFIG list: the first current-context wins',
    files: {
      'first.yaml': config({ current: 'a', clusters: [cluster('ca', { server: 'https://a.example.com' })], users: [user('ua', { token: 'a-token' })], contexts: [context('a', 'ca', 'ua')] }),
      'second.yaml': config({ current: 'b', clusters: [cluster('cb', { server: 'https://b.example.com' })], users: [user('ub', { token: 'b-token' })], contexts: [context('b', 'cb', 'ub')] }),
    },
    kubeconfig: ['first.yaml', 'second.yaml'],
    clientNodeDiverges: 'lets a later file\'s current-context override the first',
  },
  {
    name: 'KUBECONFIG list: the same cluster and user names in two files — the first definition wins',
    files: {
      'first.yaml': config({ current: 'x', clusters: [cluster('c', { server: 'https://first.example.com' })], users: [user('u', { token: 'first-token' })], contexts: [context('x', 'c', 'u', 'first')] }),
      'second.yaml': config({ clusters: [cluster('c', { server: 'https://second.example.com' })], users: [user('u', { token: 'second-token' })], contexts: [context('x', 'c', 'u', 'second')] }),
    },
    kubeconfig: ['first.yaml', 'second.yaml'],
    clientNodeDiverges: 'throws "Duplicate cluster: c" on names defined twice',
  },
  {
    name: 'KUBECONFIG list with a missing file: skipped',
    files: { 'real.yaml': config({ current: 'r', clusters: [cluster('c', { server: 'https://real.example.com' })], users: [user('u', { token: 'real-token' })], contexts: [context('r', 'c', 'u')] }) },
    kubeconfig: ['missing.yaml', 'real.yaml'],
    clientNodeDiverges: 'fails with ENOENT on a listed file that does not exist',
  },
];

function writeCase(dir: string, files: Case['files']): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), typeof content === 'string' ? content : stringify(content), { mode: 0o600 });
  }
}

function environment(dir: string, item: Case): { env: NodeJS.ProcessEnv; explicit?: string } {
  const env: NodeJS.ProcessEnv = { HOME: dir };
  if (item.kubeconfig) env.KUBECONFIG = item.kubeconfig.map((f) => join(dir, f)).join(':');
  return { env, ...(item.explicit ? { explicit: join(dir, item.explicit) } : {}) };
}

async function viaIac(dir: string, item: Case): Promise<Resolved> {
  const { env, explicit } = environment(dir, item);
  const selection = readKubeconfig({ env, ...(explicit ? { kubeconfigPath: explicit } : {}), ...(item.context ? { context: item.context } : {}) });
  const credentials = await credentialsFor(selection, (args) => args.join(' '));
  const headers = await credentials.headers();
  const auth = typeof headers.Authorization === 'string' ? headers.Authorization : '';
  return {
    server: selection.cluster.server,
    namespace: selection.namespace ?? null,
    ca: selection.cluster.ca?.toString('base64') ?? null,
    cert: selection.user.cert?.toString('base64') ?? null,
    key: selection.user.key?.toString('base64') ?? null,
    token: auth.startsWith('Bearer ') ? auth.slice(7) : null,
    basic: auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : null,
    insecure: selection.cluster.insecureSkipTlsVerify,
    tlsServerName: selection.cluster.tlsServerName ?? null,
    proxyUrl: selection.cluster.proxyUrl ?? null,
  };
}

interface KubectlView {
  clusters?: { cluster: Record<string, unknown> }[];
  users?: { user: Record<string, unknown> }[];
  contexts?: { context: Record<string, unknown> }[];
}

async function viaKubectl(dir: string, item: Case): Promise<Resolved> {
  const { env, explicit } = environment(dir, item);
  const args = ['config', 'view', '--minify', '--flatten', '--raw', '-o', 'json', ...(explicit ? ['--kubeconfig', explicit] : []), ...(item.context ? ['--context', item.context] : [])];
  const result = await execa('kubectl', args, { env: { PATH: process.env.PATH ?? '', ...env }, extendEnv: false });
  const view = JSON.parse(result.stdout) as KubectlView;
  const c = view.clusters?.[0]?.cluster ?? {};
  const u = view.users?.[0]?.user ?? {};
  const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
  // kubectl shows a token file by name; client-go reads it relative to the kubeconfig that named it.
  const tokenFile = text(u.tokenFile);
  const token = text(u.token) ?? (tokenFile ? (await import('node:fs')).readFileSync(join(dirname(join(dir, item.explicit ?? '')), tokenFile), 'utf8').trim() : null);
  return {
    server: String(c.server),
    namespace: text(view.contexts?.[0]?.context.namespace),
    ca: text(c['certificate-authority-data']),
    cert: text(u['client-certificate-data']),
    key: text(u['client-key-data']),
    token,
    basic: text(u.username) ? `${String(u.username)}:${String(u.password ?? '')}` : null,
    insecure: c['insecure-skip-tls-verify'] === true,
    tlsServerName: text(c['tls-server-name']),
    proxyUrl: text(c['proxy-url']),
  };
}

interface LibraryOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  auth?: string;
  rejectUnauthorized?: boolean;
  headers?: Record<string, string>;
}

async function viaClientNode(dir: string, item: Case): Promise<Resolved> {
  const { env, explicit } = environment(dir, item);
  const k8s = await import('@kubernetes/client-node');
  const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
  try {
    if (env.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = env.KUBECONFIG;
    process.env.HOME = env.HOME;
    const kc = new k8s.KubeConfig();
    if (explicit) kc.loadFromFile(explicit);
    else kc.loadFromDefault();
    if (item.context) kc.setCurrentContext(item.context);
    const cl = kc.getCurrentCluster();
    const options: LibraryOptions = {};
    await kc.applyToHTTPSOptions(options as never);
    const auth = options.headers?.Authorization ?? '';
    return {
      server: cl?.server ?? '',
      namespace: kc.getContextObject(kc.getCurrentContext())?.namespace ?? null,
      ca: options.ca ? Buffer.from(options.ca).toString('base64') : null,
      cert: options.cert ? Buffer.from(options.cert).toString('base64') : null,
      key: options.key ? Buffer.from(options.key).toString('base64') : null,
      token: auth.startsWith('Bearer ') ? auth.slice(7) : null,
      basic: options.auth ?? null,
      insecure: options.rejectUnauthorized === false,
      tlsServerName: cl?.tlsServerName ?? null,
      proxyUrl: cl?.proxyUrl ?? null,
    };
  } finally {
    if (saved.KUBECONFIG === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved.KUBECONFIG;
    process.env.HOME = saved.HOME;
  }
}

describe.runIf(toolAvailable('kubectl'))('kubeconfig reader conformance (iac vs kubectl vs @kubernetes/client-node)', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, item) => {
    const dir = join(root, item.name.replace(/[^a-z0-9]+/gi, '-'));
    writeCase(dir, item.files);
    const iac = await viaIac(dir, item);
    expect(iac).toEqual(await viaKubectl(dir, item));
    if (item.clientNodeDiverges === undefined) expect(iac).toEqual(await viaClientNode(dir, item));
    else {
      // Recorded, so the divergence is noticed if the library changes.
      const library = await viaClientNode(dir, item).catch((error: unknown) => error);
      expect(library).not.toEqual(iac);
    }
  });
});

describe('which reader authenticates', () => {
  it('a plain-credential user does not load @kubernetes/client-node; an exec user does, and its token is used', async () => {
    const dir = join(root, 'exec');
    const plugin = join(dir, 'bin', 'get-token');
    writeCase(dir, {
      'kc.yaml': config({
        current: 'plain',
        clusters: [cluster('c', { server: 'https://exec.example.com' })],
        users: [
          user('plain', { token: 'plain-token' }),
          user('exec', { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: './bin/get-token', args: ['--cluster', 'c'], interactiveMode: 'Never' } }),
        ],
        contexts: [context('plain', 'c', 'plain'), context('exec', 'c', 'exec')],
      }),
      'bin/get-token': `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-token-'$2'","expirationTimestamp":"2999-01-01T00:00:00Z"}}'\n`,
    });
    chmodSync(plugin, 0o755);
    // A fresh process, so nothing imported by other tests counts.
    const script = `
      const { readKubeconfig } = await import(${JSON.stringify(new URL('../../../dist/kube/kubeconfig.js', import.meta.url).href)});
      const { credentialsFor, kubeLibraryLoaded } = await import(${JSON.stringify(new URL('../../../dist/kube/credentials.js', import.meta.url).href)});
      const out = {};
      for (const context of ['plain', 'exec']) {
        const creds = await credentialsFor(readKubeconfig({ kubeconfigPath: ${JSON.stringify(join(dir, 'kc.yaml'))}, context }), (a) => a.join(' '));
        out[context] = { via: creds.via, auth: (await creds.headers()).Authorization, libraryLoaded: kubeLibraryLoaded() };
      }
      console.log(JSON.stringify(out));`;
    const result = await execa(process.execPath, ['--input-type=module', '-e', script]);
    expect(JSON.parse(result.stdout)).toEqual({
      plain: { via: 'plain', auth: 'Bearer plain-token', libraryLoaded: false },
      exec: { via: 'library', auth: 'Bearer exec-token-c', libraryLoaded: true },
    });
  });
});
