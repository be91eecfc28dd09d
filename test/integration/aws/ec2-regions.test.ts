/**
 * The EC2 sandbox is regional like EC2: zones and DNS names follow the region the AWS SDK signs
 * its request for (SigV4 credential scope), and an instance pinned to another region's zone is
 * not there.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findInstances } from '../../../src/aws/ec2.js';
import { startEc2Sandbox, type Ec2Sandbox } from '../../../src/sandbox/ec2.js';

const savedEnv = { ...process.env };
beforeAll(() => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
});
afterAll(() => {
  process.env = savedEnv;
});

let ec2: Ec2Sandbox | undefined;
afterEach(async () => {
  await ec2?.close();
  ec2 = undefined;
});

const FLEET = [
  { id: 'i-0000000000000a001', tags: { Environment: 'dev' }, privateIp: '10.0.0.5', publicIp: '3.120.1.5' },
  { id: 'i-0000000000000a002', tags: { Environment: 'dev' }, privateIp: '10.0.0.6' },
  { id: 'i-0000000000000b001', tags: { Environment: 'dev' }, privateIp: '10.0.9.9', availabilityZone: 'us-west-2b' },
];

describe('EC2 sandbox regions', () => {
  it('eu-central-1: zones eu-central-1[abc], ip-….eu-central-1.compute.internal, ec2-….eu-central-1.compute.amazonaws.com', async () => {
    ec2 = await startEc2Sandbox({ instances: FLEET });
    const found = await findInstances({ region: 'eu-central-1', endpoint: ec2.url, tags: { Environment: 'dev' } });
    expect(found.map((i) => i.instanceId)).toEqual(['i-0000000000000a001', 'i-0000000000000a002']);
    for (const instance of found) expect(instance.availabilityZone).toMatch(/^eu-central-1[abc]$/);
    expect(found[0]?.privateDnsName).toBe('ip-10-0-0-5.eu-central-1.compute.internal');
    expect(found[0]?.publicDnsName).toBe('ec2-3-120-1-5.eu-central-1.compute.amazonaws.com');
    expect(ec2.requests.map((r) => r.region)).toEqual(['eu-central-1']);
  });

  it('us-east-1 keeps its own names: ip-….ec2.internal and ec2-….compute-1.amazonaws.com', async () => {
    ec2 = await startEc2Sandbox({ instances: FLEET });
    const found = await findInstances({ region: 'us-east-1', endpoint: ec2.url, tags: { Environment: 'dev' } });
    expect(found[0]?.availabilityZone).toMatch(/^us-east-1[abc]$/);
    expect(found[0]?.privateDnsName).toBe('ip-10-0-0-5.ec2.internal');
    expect(found[0]?.publicDnsName).toBe('ec2-3-120-1-5.compute-1.amazonaws.com');
  });

  it('an instance placed in a us-west-2 zone is only found in us-west-2, with that region\'s names', async () => {
    ec2 = await startEc2Sandbox({ instances: FLEET });
    const west = await findInstances({ region: 'us-west-2', endpoint: ec2.url, tags: { Environment: 'dev' } });
    expect(west.map((i) => [i.instanceId, i.availabilityZone?.slice(0, -1)])).toEqual([
      ['i-0000000000000a001', 'us-west-2'],
      ['i-0000000000000a002', 'us-west-2'],
      ['i-0000000000000b001', 'us-west-2'],
    ]);
    expect(west.find((i) => i.instanceId === 'i-0000000000000b001')?.privateDnsName).toBe('ip-10-0-9-9.us-west-2.compute.internal');
    // The zone a given instance lands in does not change between requests.
    const again = await findInstances({ region: 'us-west-2', endpoint: ec2.url, tags: { Environment: 'dev' } });
    expect(again.map((i) => i.availabilityZone)).toEqual(west.map((i) => i.availabilityZone));
  });
});
