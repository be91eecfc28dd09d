import { z } from 'zod';
import { durationProblem, parseDuration, MAX_DURATION_MS } from '../util/duration.js';

/**
 * The iac.yaml schema. One zod schema drives validation, the TypeScript types and the exported
 * JSON Schema (`iac schema`), so editors and iac agree on what is valid.
 */

const duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, { message: 'expected a duration such as "90s", "5m", "1h" or "2d"' })
  .refine((text) => (parseDuration(text) ?? 0) <= MAX_DURATION_MS, { message: durationProblem('25d') as string });

/** Only http(s): credentials and builds never go over ftp:, file: or anything else. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://ci.example.com' });

const nonEmpty = z.string().min(1, { message: 'expected a non-empty string' });

/** Scalars that may be passed on as Jenkins parameters or Ansible extra vars. */
const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A `hostnames:` entry of the amazon.aws.aws_ec2 plugin: a filter name, `tag:Key[=Value]`, or `{ name, prefix, separator }`. */
const ec2Hostname = z.union([
  nonEmpty,
  z.strictObject({ name: nonEmpty, prefix: nonEmpty.optional(), separator: z.string().optional() }),
]);

/** A `keyed_groups:` entry, as in Ansible's constructed plugins (the key is a Jinja expression). */
const ec2KeyedGroup = z.strictObject({
  key: nonEmpty,
  prefix: z.string().optional(),
  separator: z.string().optional(),
  parent_group: nonEmpty.optional(),
  default_value: z.string().optional(),
  trailing_separator: z.boolean().optional(),
  leading_separator: z.boolean().optional(),
});

const ec2Discovery = z.strictObject({
  region: nonEmpty.optional().describe('AWS region; default: AWS_REGION / the profile\'s region'),
  profile: nonEmpty.optional().describe('AWS shared-config profile; default: the SDK credential chain'),
  endpoint: httpUrl.optional().describe('EC2 endpoint override (tests, VPC endpoints)'),
  tags: z.record(z.string(), z.string()).describe('instances must carry all of these tags'),
  states: z.array(nonEmpty).optional().describe('instance states to include; default ["running"]'),
  // The options below carry the amazon.aws.aws_ec2 inventory plugin's names and meanings.
  hostnames: z.array(ec2Hostname).min(1).optional().describe('host name preferences, as aws_ec2; default [dns-name, private-dns-name]'),
  allow_duplicated_hosts: z.boolean().optional().describe('as aws_ec2: one host per matching hostnames entry'),
  compose: z.record(z.string(), nonEmpty).optional().describe('host vars from Jinja expressions, e.g. { ansible_host: private_ip_address }'),
  groups: z.record(z.string(), nonEmpty).optional().describe('groups from Jinja conditions, as aws_ec2'),
  keyed_groups: z.array(ec2KeyedGroup).optional().describe('groups from Jinja keys, e.g. [{ prefix: tag, key: tags }]'),
  strict: z.boolean().optional().describe('as aws_ec2: a compose/groups/keyed_groups error fails the inventory; default false'),
});

const jenkinsServer = z.strictObject({
  url: httpUrl.describe('Jenkins base URL, including any context path (https://ci.example.com/jenkins/)'),
  allowInsecureHttp: z.boolean().optional().describe('allow credentials over plain http to a non-loopback host'),
});

const environmentJenkins = z.strictObject({
  url: httpUrl.optional().describe('overrides the top-level jenkins.url for this environment'),
  job: nonEmpty.describe('job path; folders with "/", multibranch branch as the last segment (shop/${branch})'),
  multibranch: z.boolean().optional().describe('the last path segment is a branch name (encoded as Jenkins does)'),
  parameters: z.record(z.string(), scalar).optional().describe('build parameters; ${git.sha} etc. are interpolated'),
  pollInterval: duration.optional().describe('the longest wait between polls of the queue/build; default 1s'),
  queueTimeout: duration.optional().describe('how long a build may wait in the queue before iac cancels it (exit 4); default 30m'),
});

const environmentAnsible = z.strictObject({
  playbook: nonEmpty.describe('playbook path, relative to iac.yaml'),
  inventory: z
    .union([nonEmpty, z.array(nonEmpty).min(1), z.strictObject({ ec2: ec2Discovery })])
    .describe('inventory path(s), or { ec2: {...} } to discover hosts by tag'),
  limit: nonEmpty.optional(),
  tags: z.array(nonEmpty).optional(),
  skipTags: z.array(nonEmpty).optional(),
  extraVars: z.record(z.string(), z.unknown()).optional().describe('passed as -e JSON; never put secrets here'),
  secretExtraVars: z
    .record(z.string(), z.string())
    .optional()
    .describe('values must be ${env.NAME}; passed in a 0600 temp file, never on the command line'),
  check: z.boolean().optional().describe('run with --check --diff'),
});

const environmentKubernetes = z.strictObject({
  kubeconfig: nonEmpty.optional().describe('kubeconfig path; default KUBECONFIG / ~/.kube/config'),
  context: nonEmpty.optional().describe('kube context; default the current context'),
  namespace: nonEmpty.describe('namespace of the workloads'),
  workloads: z.array(nonEmpty).min(1).describe('kind/name, e.g. deployment/web, statefulset/db, daemonset/agent, deploymentconfig/api'),
  timeout: duration.optional().describe('rollout deadline for all workloads; default 5m'),
  crashLoopGrace: duration.optional().describe('how long CrashLoopBackOff is tolerated; default 60s'),
  revisionAnnotation: nonEmpty.optional().describe('annotation holding the deployed git SHA; default: the image tag'),
});

const environmentAws = z.strictObject({
  region: nonEmpty.optional(),
  profile: nonEmpty.optional(),
  endpoint: httpUrl.optional(),
  tags: z.record(z.string(), z.string()).describe('tags that select this environment\'s EC2 instances'),
});

export const environmentSchema = z.strictObject({
  branch: nonEmpty.describe('git branch deployed to this environment'),
  promoteFrom: nonEmpty.optional().describe('environment (or branch) whose tested work is promoted here'),
  confirm: z.boolean().optional().describe('ask before promoting into this environment'),
  jenkins: environmentJenkins.optional(),
  ansible: environmentAnsible.optional(),
  kubernetes: environmentKubernetes.optional(),
  aws: environmentAws.optional(),
});

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  project: nonEmpty.describe('project name, used in messages and run logs'),
  git: z
    .strictObject({
      remote: nonEmpty.default('origin'),
      timeout: duration.optional().describe('deadline of each fetch, push and ls-remote; default 2m'),
    })
    .optional(),
  jenkins: jenkinsServer.optional(),
  lease: z
    .strictObject({ duration: duration.optional().describe('how long a deploy lease outlives a run that died without releasing it; default 30s') })
    .optional()
    .describe("one run per environment: the lease a deploy holds while it changes the environment"),
  environments: z
    .record(z.string().regex(/^[A-Za-z0-9][\w.-]*$/, { message: 'environment names are letters, digits, "-", "_" and "."' }), environmentSchema)
    .refine((envs) => Object.keys(envs).length > 0, { message: 'expected at least one environment' }),
});

export type IacConfigInput = z.input<typeof configSchema>;
export type RawConfig = z.output<typeof configSchema>;
export type EnvironmentConfig = z.output<typeof environmentSchema>;
export type Ec2Discovery = z.output<typeof ec2Discovery>;

/** JSON Schema (draft 2020-12) for editors: `iac schema > iac.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
