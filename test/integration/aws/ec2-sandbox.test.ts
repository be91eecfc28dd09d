import { afterEach, describe, expect, it } from 'vitest';
import { startEc2Sandbox, type Ec2Sandbox } from '../../../src/sandbox/ec2.js';
import { TAGGED_INSTANCES } from '../../fixtures/ec2/scenario-tagged.js';

const sandboxes: Ec2Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

async function post(ec2: Ec2Sandbox, form: Record<string, string>): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(ec2.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ Version: '2016-11-15', ...form }).toString(),
  });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

function instanceIds(xml: string): string[] {
  return [...xml.matchAll(/<instanceId>([^<]+)<\/instanceId>/g)].map((m) => m[1] as string);
}

describe('EC2 sandbox wire protocol', () => {
  it('pages with MaxResults and an opaque NextToken, and omits nextToken on the last page', async () => {
    const many = Array.from({ length: 7 }, (_, n) => ({ id: `i-${String(n).padStart(17, '0')}`, tags: { Env: 'dev' } }));
    const ec2 = await startEc2Sandbox({ instances: many });
    sandboxes.push(ec2);
    const first = await post(ec2, { Action: 'DescribeInstances', MaxResults: '5' });
    expect(first.status).toBe(200);
    expect(first.type).toBe('text/xml;charset=UTF-8');
    expect(first.body).toContain('<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">');
    expect(instanceIds(first.body)).toHaveLength(5);
    const token = /<nextToken>([^<]+)<\/nextToken>/.exec(first.body)?.[1];
    expect(token).toBeDefined();
    const second = await post(ec2, { Action: 'DescribeInstances', MaxResults: '5', NextToken: token as string });
    expect(instanceIds(second.body)).toEqual(['i-00000000000000005', 'i-00000000000000006']);
    expect(second.body).not.toContain('nextToken');
  });

  it('ORs values within a filter, ANDs filters, and answers an empty match with <reservationSet/>', async () => {
    const ec2 = await startEc2Sandbox({ instances: TAGGED_INSTANCES });
    sandboxes.push(ec2);
    const both = await post(ec2, {
      Action: 'DescribeInstances',
      'Filter.1.Name': 'tag:Role',
      'Filter.1.Value.1': 'web',
      'Filter.1.Value.2': 'db',
      'Filter.2.Name': 'instance-state-name',
      'Filter.2.Value.1': 'running',
    });
    expect(instanceIds(both.body)).toEqual(['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60099']);
    const none = await post(ec2, { Action: 'DescribeInstances', 'Filter.1.Name': 'tag:Role', 'Filter.1.Value.1': 'cache' });
    expect(none.body).toContain('<reservationSet/>');
  });

  it('answers errors in the EC2 XML error shape with the real status codes', async () => {
    const ec2 = await startEc2Sandbox({ instances: TAGGED_INSTANCES, faults: { throttleFirst: 1 } });
    sandboxes.push(ec2);
    const throttled = await post(ec2, { Action: 'DescribeInstances' });
    expect(throttled.status).toBe(503);
    expect(throttled.body).toMatch(
      /<Response><Errors><Error><Code>RequestLimitExceeded<\/Code><Message>Request limit exceeded\.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]+<\/RequestID><\/Response>$/,
    );
    const badFilter = await post(ec2, { Action: 'DescribeInstances', 'Filter.1.Name': 'bogus', 'Filter.1.Value.1': 'x' });
    expect(badFilter.status).toBe(400);
    expect(badFilter.body).toContain('<Code>InvalidParameterValue</Code>');
    const missing = await post(ec2, { Action: 'DescribeInstances', 'InstanceId.1': 'i-0000000000000dead' });
    expect(missing.status).toBe(400);
    expect(missing.body).toContain('<Code>InvalidInstanceID.NotFound</Code>');
    const badAction = await post(ec2, { Action: 'RunInstances' });
    expect(badAction.status).toBe(400);
    expect(badAction.body).toContain('<Code>InvalidAction</Code>');
    expect(ec2.requests.map((r) => r.status)).toEqual([503, 400, 400, 400]);

    const denied = await startEc2Sandbox({ instances: [], faults: { authFailure: true } });
    sandboxes.push(denied);
    const auth = await post(denied, { Action: 'DescribeInstances' });
    expect(auth.status).toBe(401);
    expect(auth.body).toContain('<Code>AuthFailure</Code>');
  });

  it('escapes tag values in XML', async () => {
    const ec2 = await startEc2Sandbox({ instances: [{ id: 'i-1', tags: { Note: 'a<b & "c"' } }] });
    sandboxes.push(ec2);
    const res = await post(ec2, { Action: 'DescribeInstances' });
    expect(res.body).toContain('<value>a&lt;b &amp; &quot;c&quot;</value>');
  });
});
