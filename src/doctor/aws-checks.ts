/**
 * aws: the region resolves, credentials are found (SDK default chain) and accepted, and
 * DescribeInstances with the environment's tags works. One DescribeInstances answers all three.
 */
import type { Ec2Discovery } from '../config/schema.js';
import { isIacError } from '../errors.js';
import { findTaggedInstances } from '../steps/inventory-source.js';
import { fail, pass, probeSignal, settle, warn, type CheckSpec, type ProbeContext } from './types.js';

const CREDENTIAL_CODES = new Set(['aws.no-credentials', 'aws.auth']);

export function awsChecks(envName: string, discovery: Ec2Discovery, env: NodeJS.ProcessEnv, ctx: ProbeContext): CheckSpec[] {
  const described = settle(() => findTaggedInstances(discovery, probeSignal(ctx)));
  const codeOf = async (): Promise<string | undefined> => {
    const result = await described();
    return result.ok ? undefined : isIacError(result.error) ? result.error.code : 'error';
  };
  const tags = Object.entries(discovery.tags).map(([k, v]) => `${k}=${v}`).join(',');

  const region: CheckSpec = {
    id: 'aws.region',
    env: envName,
    label: 'aws region',
    async run() {
      const source = discovery.region !== undefined ? 'iac.yaml' : env.AWS_REGION ? 'AWS_REGION' : env.AWS_DEFAULT_REGION ? 'AWS_DEFAULT_REGION' : undefined;
      if ((await codeOf()) === 'aws.region-missing') {
        return fail('no AWS region configured', 'set region in iac.yaml (aws.region or ansible.inventory.ec2.region), or export AWS_REGION');
      }
      const name = discovery.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
      return pass(name !== undefined ? `${name} (from ${source ?? 'iac.yaml'})` : 'from the AWS config file (profile)');
    },
  };
  const credentials: CheckSpec = {
    id: 'aws.credentials',
    env: envName,
    label: 'aws credentials',
    requires: [region],
    async run() {
      const result = await described();
      if (!result.ok && isIacError(result.error) && CREDENTIAL_CODES.has(result.error.code)) throw result.error;
      // Any other outcome means the SDK found credentials and signed the request with them.
      const profile = discovery.profile ?? env.AWS_PROFILE;
      const source = env.AWS_ACCESS_KEY_ID ? 'AWS_ACCESS_KEY_ID' : profile !== undefined ? `profile ${profile}` : 'the SDK default chain';
      return pass(`found (${source})`);
    },
  };
  const instances: CheckSpec = {
    id: 'aws.instances',
    env: envName,
    label: 'aws instances',
    requires: [credentials],
    hint: 'aws ec2 describe-instances --max-items 1',
    async run() {
      const result = await described();
      if (!result.ok) throw result.error;
      const n = result.value.length;
      if (n === 0) return warn(`DescribeInstances works, but no instance is tagged ${tags}`, 'check the tags in iac.yaml against your instances');
      return pass(`${n} instance${n === 1 ? '' : 's'} tagged ${tags}`);
    },
  };
  return [region, credentials, instances];
}
