/**
 * An EC2-compatible endpoint (Query API: form POST, `Action=DescribeInstances`, filters, MaxResults /
 * NextToken pagination) for tests and `iac demo`. The AWS SDK reaches it through its `endpoint` option;
 * zones and DNS names follow the region the request is signed for.
 * Faults: throttling (503 RequestLimitExceeded), AuthFailure (401) and latency.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { matchesFilters, parseFilters, parseInstanceIds, unknownFilters } from './ec2-filters.js';
import { describeInstancesXml, errorXml, type ScenarioInstance } from './ec2-xml.js';

export type { ScenarioInstance } from './ec2-xml.js';

export interface Ec2SandboxOptions {
  instances: ScenarioInstance[];
  /** Server-side page size, also when the client sends no MaxResults (forces pagination in tests). */
  pageSize?: number;
  faults?: {
    /** Answer the first N requests with 503 RequestLimitExceeded. */
    throttleFirst?: number;
    /** Answer every request with 401 AuthFailure. */
    authFailure?: boolean;
    /** Delay before every answer. */
    latencyMs?: number;
  };
}

export interface Ec2SandboxRequest {
  action: string;
  params: Record<string, string>;
  status: number;
  /** The SigV4 `Authorization` header was present (the secret itself never travels). */
  signed: boolean;
  /** `amz-sdk-request` header, e.g. "attempt=2; max=3": shows SDK retries. */
  sdkRequest?: string;
  /** The region the request was for (SigV4 scope or Host; us-east-1 when neither names one). */
  region: string;
}

export interface Ec2Sandbox {
  url: string;
  requests: Ec2SandboxRequest[];
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

interface Reply {
  status: number;
  body: string;
}

function error(status: number, code: string, message: string): Reply {
  return { status, body: errorXml(code, message, randomUUID()) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** NextToken: the offset into the filtered list, opaque to clients like the real one. */
function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ v: 1, o: offset })).toString('base64url');
}

function decodeToken(token: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const offset = (parsed as { o?: unknown }).o;
    return typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The region a request is for, as EC2 decides it: the SigV4 credential scope
 * (`Credential=AKID/20240101/eu-central-1/ec2/aws4_request`), else an `ec2.<region>.amazonaws.com`
 * Host, else us-east-1 (the global endpoint's region). `scoped`: the client named a region.
 */
export function requestRegion(headers: IncomingMessage['headers']): { region: string; scoped: boolean } {
  const scope = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\/ec2\/aws4_request/.exec(headers.authorization ?? '');
  if (scope) return { region: scope[1] as string, scoped: true };
  const host = /^ec2\.([a-z0-9-]+)\.amazonaws\.com(?::\d+)?$/.exec(headers.host ?? '');
  if (host) return { region: host[1] as string, scoped: true };
  return { region: 'us-east-1', scoped: false };
}

/**
 * The instances as seen from one region: EC2 is regional, so an instance placed in another
 * region's zone is not there; an instance without a zone lives in the asked region (zone a, b or
 * c, stable per instance), which its DNS names then follow.
 */
export function instancesInRegion(instances: ScenarioInstance[], region: string, scoped: boolean): ScenarioInstance[] {
  return instances
    .filter((instance) => !scoped || instance.availabilityZone === undefined || instance.availabilityZone.slice(0, -1) === region)
    .map((instance) => {
      if (instance.availabilityZone !== undefined) return instance;
      const letter = 'abc'[[...instance.id].reduce((sum, char) => sum + char.charCodeAt(0), 0) % 3] as string;
      return { ...instance, availabilityZone: `${region}${letter}` };
    });
}

function describeInstances(params: URLSearchParams, options: Ec2SandboxOptions, instances: ScenarioInstance[]): Reply {
  const filters = parseFilters(params);
  const unknown = unknownFilters(filters);
  if (unknown.length > 0) return error(400, 'InvalidParameterValue', `The filter '${unknown[0]}' is invalid`);
  const ids = parseInstanceIds(params);
  const maxResultsText = params.get('MaxResults');
  if (ids.length > 0 && maxResultsText) {
    return error(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
  }
  const missing = ids.filter((id) => !instances.some((i) => i.id === id));
  if (missing.length > 0) {
    return error(400, 'InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  }
  const maxResults = maxResultsText ? Number(maxResultsText) : undefined;
  if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 5 || maxResults > 1000)) {
    return error(400, 'InvalidParameterValue', `Value ( ${maxResultsText} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
  }
  const token = params.get('NextToken');
  const offset = token ? decodeToken(token) : 0;
  if (offset === undefined) return error(400, 'InvalidParameterValue', 'The token is malformed');

  const matching = instances.filter(
    (i) => (ids.length === 0 || ids.includes(i.id)) && matchesFilters(i, filters),
  );
  const pageSize = Math.min(maxResults ?? 1000, options.pageSize ?? 1000);
  const page = matching.slice(offset, offset + pageSize);
  const next = offset + pageSize < matching.length ? encodeToken(offset + pageSize) : undefined;
  return { status: 200, body: describeInstancesXml(page, randomUUID(), next) };
}

export async function startEc2Sandbox(options: Ec2SandboxOptions): Promise<Ec2Sandbox> {
  const requests: Ec2SandboxRequest[] = [];
  let served = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const params = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const action = params.get('Action') ?? '';
    served += 1;
    let reply: Reply;
    if (options.faults?.authFailure) {
      reply = error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    } else if (served <= (options.faults?.throttleFirst ?? 0)) {
      reply = error(503, 'RequestLimitExceeded', 'Request limit exceeded.');
    } else if (req.method !== 'POST' && req.method !== 'GET') {
      reply = error(405, 'InvalidAction', `The HTTP method ${req.method ?? ''} is not supported`);
    } else if (action === 'DescribeInstances') {
      const { region, scoped } = requestRegion(req.headers);
      reply = describeInstances(params, options, instancesInRegion(options.instances, region, scoped));
    } else {
      reply = error(400, 'InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
    }
    const sdkRequest = req.headers['amz-sdk-request'];
    requests.push({
      action,
      params: Object.fromEntries(params),
      status: reply.status,
      signed: typeof req.headers.authorization === 'string',
      region: requestRegion(req.headers).region,
      ...(typeof sdkRequest === 'string' ? { sdkRequest } : {}),
    });
    if (options.faults?.latencyMs) await new Promise((r) => setTimeout(r, options.faults?.latencyMs));
    res.writeHead(reply.status, {
      'Content-Type': 'text/xml;charset=UTF-8',
      'x-amzn-RequestId': randomUUID(),
      Server: 'AmazonEC2',
    });
    res.end(reply.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const reply = error(500, 'InternalError', err instanceof Error ? err.message : 'internal error');
      res.writeHead(reply.status, { 'Content-Type': 'text/xml;charset=UTF-8' });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
