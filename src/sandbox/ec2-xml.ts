/**
 * XML bodies of the EC2 Query API (protocol 2016-11-15), in the shape real EC2 sends: see
 * test/fixtures/ec2/derived-describe-instances-tagged-page1.xml and the error captures beside it.
 */

export interface ScenarioInstance {
  id: string;
  /** pending | running | shutting-down | terminated | stopping | stopped (default running). */
  state?: string;
  tags?: Record<string, string>;
  privateIp?: string;
  publicIp?: string;
  /** Default: ip-10-0-1-11.<region>.compute.internal (us-east-1: ip-10-0-1-11.ec2.internal) when privateIp is set. */
  privateDnsName?: string;
  /** Default: ec2-34-219-17-11.<region>.compute.amazonaws.com when publicIp is set, else empty. */
  publicDnsName?: string;
  /** Default: a zone of the region the request is for. Set, it pins the instance to that zone's region. */
  availabilityZone?: string;
  instanceType?: string;
  imageId?: string;
  keyName?: string;
  launchTime?: string;
  vpcId?: string;
  subnetId?: string;
  /** Instances sharing a reservation id are listed in one reservation, like a single RunInstances call. */
  reservationId?: string;
  ownerId?: string;
  securityGroups?: Array<{ id: string; name: string }>;
}

export const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

function el(name: string, value: string | undefined): string {
  if (value === undefined) return '';
  return value === '' ? `<${name}/>` : `<${name}>${escapeXml(value)}</${name}>`;
}

export function regionOf(instance: ScenarioInstance): string {
  return (instance.availabilityZone ?? 'us-east-1a').slice(0, -1);
}

export function stateOf(instance: ScenarioInstance): string {
  return instance.state ?? 'running';
}

export function privateDnsOf(instance: ScenarioInstance): string {
  if (instance.privateDnsName !== undefined) return instance.privateDnsName;
  if (!instance.privateIp) return '';
  const region = regionOf(instance);
  return `ip-${instance.privateIp.replace(/\./g, '-')}.${region === 'us-east-1' ? 'ec2' : `${region}.compute`}.internal`;
}

export function publicDnsOf(instance: ScenarioInstance): string {
  if (instance.publicDnsName !== undefined) return instance.publicDnsName;
  if (!instance.publicIp) return '';
  const region = regionOf(instance);
  // us-east-1 kept its original naming: ec2-1-2-3-4.compute-1.amazonaws.com.
  return `ec2-${instance.publicIp.replace(/\./g, '-')}.${region === 'us-east-1' ? 'compute-1' : `${region}.compute`}.amazonaws.com`;
}

function instanceXml(instance: ScenarioInstance): string {
  const state = stateOf(instance);
  const groups = (instance.securityGroups ?? [{ id: 'sg-0123456789abcdef0', name: 'default' }])
    .map((g) => `<item>${el('groupId', g.id)}${el('groupName', g.name)}</item>`)
    .join('');
  const tags = Object.entries(instance.tags ?? {})
    .map(([key, value]) => `<item>${el('key', key)}${el('value', value)}</item>`)
    .join('');
  return [
    '<item>',
    el('instanceId', instance.id),
    el('imageId', instance.imageId ?? 'ami-082b5a644766e0e6f'),
    `<instanceState><code>${STATE_CODES[state] ?? 16}</code>${el('name', state)}</instanceState>`,
    el('privateDnsName', privateDnsOf(instance)),
    el('dnsName', publicDnsOf(instance)),
    '<reason/>',
    el('keyName', instance.keyName ?? 'ec2'),
    '<amiLaunchIndex>0</amiLaunchIndex><productCodes/>',
    el('instanceType', instance.instanceType ?? 't3.micro'),
    el('launchTime', instance.launchTime ?? '2019-07-01T21:15:47.000Z'),
    `<placement>${el('availabilityZone', instance.availabilityZone ?? 'us-east-1a')}<groupName/><tenancy>default</tenancy></placement>`,
    '<monitoring><state>disabled</state></monitoring>',
    el('subnetId', instance.subnetId ?? 'subnet-21959558'),
    el('vpcId', instance.vpcId ?? 'vpc-1de55365'),
    el('privateIpAddress', instance.privateIp),
    el('ipAddress', instance.publicIp),
    '<sourceDestCheck>true</sourceDestCheck>',
    `<groupSet>${groups}</groupSet>`,
    '<architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>',
    '<blockDeviceMapping/><virtualizationType>hvm</virtualizationType><clientToken/>',
    tags === '' ? '<tagSet/>' : `<tagSet>${tags}</tagSet>`,
    '<hypervisor>xen</hypervisor><networkInterfaceSet/><ebsOptimized>false</ebsOptimized>',
    '</item>',
  ].join('');
}

/** One page: instances grouped into reservations in order of first appearance. */
export function describeInstancesXml(instances: ScenarioInstance[], requestId: string, nextToken?: string): string {
  const reservations = new Map<string, ScenarioInstance[]>();
  for (const instance of instances) {
    const id = instance.reservationId ?? `r-${instance.id.replace(/^i-/, '')}`;
    reservations.set(id, [...(reservations.get(id) ?? []), instance]);
  }
  const items = [...reservations.entries()]
    .map(([id, members]) => {
      const owner = members[0]?.ownerId ?? '123456789012';
      return `<item>${el('reservationId', id)}${el('ownerId', owner)}<groupSet/><instancesSet>${members.map(instanceXml).join('')}</instancesSet></item>`;
    })
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="${NS}">` +
    `${el('requestId', requestId)}${items === '' ? '<reservationSet/>' : `<reservationSet>${items}</reservationSet>`}` +
    `${nextToken ? el('nextToken', nextToken) : ''}</DescribeInstancesResponse>`
  );
}

/** `<Response><Errors><Error>…` — note `RequestID` here versus `requestId` in success bodies. */
export function errorXml(code: string, message: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', code)}${el('Message', message)}</Error></Errors>` +
    `${el('RequestID', requestId)}</Response>`
  );
}
