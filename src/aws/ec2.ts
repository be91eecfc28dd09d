/**
 * EC2 discovery: instances by tags and state, on @aws-sdk/client-ec2 (imported lazily: ~0.4 s to load).
 * Credentials come from the SDK's default chain (env, profile, SSO, IMDS); throttling is retried by the
 * SDK's standard retry strategy.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { EC2Client, Instance, Reservation } from '@aws-sdk/client-ec2';
import { InterruptedError, UnreachableError, UsageError, throwIfAborted } from '../errors.js';

export interface FindInstancesOptions {
  region?: string;
  profile?: string;
  /** e.g. the sandbox's URL; otherwise the SDK resolves it (also from AWS_ENDPOINT_URL_EC2). */
  endpoint?: string;
  tags: Record<string, string>;
  /** Default {@link LIVE_STATES}: every state but terminated/shutting-down (an inventory asks for running only). */
  states?: string[];
  signal?: AbortSignal;
  /** Where AWS_PROFILE and the config file locations are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Total attempts per request (default 5): RequestLimitExceeded is retried with backoff. */
  maxAttempts?: number;
}

export interface Ec2Instance {
  instanceId: string;
  state: string;
  tags: Record<string, string>;
  privateIp?: string;
  publicIp?: string;
  privateDnsName?: string;
  publicDnsName?: string;
  availabilityZone?: string;
  instanceType?: string;
  reservationId?: string;
  ownerId?: string;
  requesterId?: string;
  /** The instance exactly as the SDK parsed it (PascalCase); the inventory derives hostvars from it. */
  raw: Instance;
}

/** Every state an instance can be seen in before it is gone (what the aws_ec2 plugin asks for by default). */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
/** What an inventory lists unless `states` says otherwise: hosts Ansible can reach. */
export const INVENTORY_STATES = ['running'];

/** The SDK logs (e.g. "Multiple credential sources detected") go nowhere: adapters do not print. */
const SILENT_LOGGER = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const AUTH_CODES = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'RequestExpired',
  'UnrecognizedClientException',
  'OptInRequired',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);
const CREDENTIALS_HINT = 'aws sts get-caller-identity   (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)';

export function tagFilters(tags: Record<string, string>, states: string[]): Array<{ Name: string; Values: string[] }> {
  return [
    ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
    ...(states.length > 0 ? [{ Name: 'instance-state-name', Values: states }] : []),
  ];
}

export function toEc2Instance(instance: Instance, reservation: Reservation): Ec2Instance {
  const tags: Record<string, string> = {};
  for (const tag of instance.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  const out: Ec2Instance = { instanceId: instance.InstanceId ?? '', state: instance.State?.Name ?? 'unknown', tags, raw: instance };
  if (instance.PrivateIpAddress) out.privateIp = instance.PrivateIpAddress;
  if (instance.PublicIpAddress) out.publicIp = instance.PublicIpAddress;
  if (instance.PrivateDnsName) out.privateDnsName = instance.PrivateDnsName;
  if (instance.PublicDnsName) out.publicDnsName = instance.PublicDnsName;
  if (instance.Placement?.AvailabilityZone) out.availabilityZone = instance.Placement.AvailabilityZone;
  if (instance.InstanceType) out.instanceType = instance.InstanceType;
  if (reservation.ReservationId) out.reservationId = reservation.ReservationId;
  if (reservation.OwnerId) out.ownerId = reservation.OwnerId;
  out.requesterId = reservation.RequesterId ?? '';
  return out;
}

export async function findInstances(opts: FindInstancesOptions): Promise<Ec2Instance[]> {
  throwIfAborted(opts.signal);
  // The SDK warns on stderr about future Node versions at client construction; adapters do not print.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // require(), not import(): through the ESM loader the 2 MB CommonJS bundle is parsed twice (~2× the CPU).
  const sdk = createRequire(import.meta.url)('@aws-sdk/client-ec2') as typeof Ec2Sdk;
  let client: EC2Client;
  try {
    client = new sdk.EC2Client({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      maxAttempts: opts.maxAttempts ?? 5,
      logger: SILENT_LOGGER,
    });
  } catch (error) {
    throw toIacError(error, opts);
  }
  const instances: Ec2Instance[] = [];
  try {
    const pages = sdk.paginateDescribeInstances(
      { client },
      { Filters: tagFilters(opts.tags, opts.states ?? LIVE_STATES) },
      { abortSignal: opts.signal },
    );
    for await (const page of pages) {
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) instances.push(toEc2Instance(instance, reservation));
      }
    }
  } catch (error) {
    throw toIacError(error, opts);
  } finally {
    client.destroy();
  }
  return instances;
}

/** A profile named in iac.yaml or AWS_PROFILE is the likely culprit when no credentials load: say which. */
function credentialsError(err: Error, opts: FindInstancesOptions): UnreachableError {
  const env = opts.env ?? process.env;
  const profile = opts.profile ?? env.AWS_PROFILE;
  if (profile === undefined || profile === '') {
    return new UnreachableError('aws.no-credentials', 'no AWS credentials found for EC2 discovery', { hint: CREDENTIALS_HINT, cause: err });
  }
  const source = opts.profile !== undefined ? 'profile in iac.yaml' : 'AWS_PROFILE';
  const files = awsConfigFiles(env);
  if (!profileDefined(profile, files)) {
    // The file names are not shown: AWS_SHARED_CREDENTIALS_FILE looks secret by name, so output masks it.
    return new UnreachableError('aws.no-credentials', `AWS profile "${profile}" (${source}) is not defined in the AWS config or credentials file`, {
      hint: 'aws configure list-profiles',
      cause: err,
    });
  }
  return new UnreachableError('aws.no-credentials', `AWS profile "${profile}" (${source}) gave no usable credentials`, {
    hint: `aws sts get-caller-identity --profile ${profile}`,
    cause: err,
  });
}

function awsConfigFiles(env: NodeJS.ProcessEnv): { config: string; credentials: string } {
  const home = env.HOME ?? homedir();
  return {
    config: env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'),
  };
}

/** `[profile x]` (or `[x]`, `[default]`) in the config file, `[x]` in the credentials file. */
export function profileDefined(profile: string, files: { config: string; credentials: string }): boolean {
  const sections = (file: string): string[] => {
    try {
      return [...readFileSync(file, 'utf8').matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)].map((m) => (m[1] as string).replace(/^profile\s+/, ''));
    } catch {
      return [];
    }
  };
  return sections(files.config).includes(profile) || sections(files.credentials).includes(profile);
}

function describeTarget(opts: FindInstancesOptions): string {
  return opts.endpoint ?? `EC2${opts.region ? ` in ${opts.region}` : ''}`;
}

/** Maps SDK errors to iac's: credentials refused or missing, or no answer → exit 4 (outcome unknown). */
export function toIacError(error: unknown, opts: FindInstancesOptions): Error {
  if (opts.signal?.aborted) return new InterruptedError('EC2 discovery interrupted');
  const err = error instanceof Error ? error : new Error(String(error));
  const code = (err as { code?: unknown }).code;
  const name = err.name;
  const message = err.message.split('\n')[0] ?? '';
  if (/region is missing/i.test(message)) {
    return new UsageError('aws.region-missing', 'no AWS region configured for EC2 discovery', {
      hint: 'set ec2.region in iac.yaml, or AWS_REGION',
    });
  }
  if (AUTH_CODES.has(name)) {
    return new UnreachableError('aws.auth', `AWS refused the credentials (${name}): ${message}`, {
      hint: CREDENTIALS_HINT,
      cause: err,
    });
  }
  if (name === 'CredentialsProviderError' || /could not load credentials|could not resolve credentials/i.test(message)) {
    return credentialsError(err, opts);
  }
  if (name === 'RequestLimitExceeded' || name === 'Throttling' || name === 'ThrottlingException') {
    return new UnreachableError('aws.throttled', `EC2 kept throttling requests (${name}) after retries`, {
      hint: 'wait a minute and retry',
      cause: err,
    });
  }
  if ((typeof code === 'string' && NETWORK_CODES.has(code)) || name === 'TimeoutError' || /ECONNREFUSED|ENOTFOUND|socket hang up/.test(message)) {
    return new UnreachableError('aws.unreachable', `cannot reach ${describeTarget(opts)}: ${message}`, {
      hint: 'check the network, the region and any endpoint override (AWS_ENDPOINT_URL_EC2)',
      cause: err,
    });
  }
  const fault = (err as { $fault?: unknown }).$fault;
  if (fault === 'server') {
    return new UnreachableError('aws.server-error', `EC2 answered with a server error (${name}): ${message}`, { cause: err });
  }
  return new UnreachableError('aws.error', `EC2 DescribeInstances failed (${name}): ${message}`, {
    hint: 'aws ec2 describe-instances --max-items 1   (to see the same error from the AWS CLI)',
    cause: err,
  });
}
