/**
 * kubectl sends some built-in types as protobuf (`application/vnd.kubernetes.protobuf`), e.g. the
 * SelfSubjectAccessReview of `kubectl auth can-i`. This reads the `k8s\0` envelope
 * (runtime.Unknown) and the review's spec — enough to answer in JSON, which kubectl also accepts.
 */

interface Field {
  number: number;
  wireType: number;
  value: number | Buffer;
}

function varint(buffer: Buffer, offset: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let position = offset;
  for (;;) {
    const byte = buffer[position];
    if (byte === undefined) throw new Error('truncated protobuf varint');
    value += (byte & 0x7f) * 2 ** shift;
    position++;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) throw new Error('protobuf varint too long');
  }
  return { value, next: position };
}

function fields(buffer: Buffer): Field[] {
  const result: Field[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const key = varint(buffer, offset);
    const number = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    offset = key.next;
    if (wireType === 0) {
      const v = varint(buffer, offset);
      result.push({ number, wireType, value: v.value });
      offset = v.next;
    } else if (wireType === 2) {
      const length = varint(buffer, offset);
      const start = length.next;
      const end = start + length.value;
      if (end > buffer.length) throw new Error('truncated protobuf field');
      result.push({ number, wireType, value: buffer.subarray(start, end) });
      offset = end;
    } else if (wireType === 1) {
      offset += 8;
    } else if (wireType === 5) {
      offset += 4;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
  }
  return result;
}

function bytesField(buffer: Buffer, number: number): Buffer | undefined {
  const field = fields(buffer).find((f) => f.number === number && f.wireType === 2);
  return field === undefined ? undefined : (field.value as Buffer);
}

function strings(buffer: Buffer | undefined, names: Record<number, string>): Record<string, string> {
  const result: Record<string, string> = {};
  if (buffer === undefined) return result;
  for (const field of fields(buffer)) {
    const name = names[field.number];
    if (name !== undefined && field.wireType === 2) result[name] = (field.value as Buffer).toString('utf8');
  }
  return result;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The JSON form of a protobuf-encoded SelfSubjectAccessReview (or SelfSubjectRulesReview). */
export function decodeReview(body: Buffer): { kind: string; spec: Record<string, unknown> } {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf envelope');
  const unknown = body.subarray(4);
  const typeMeta = strings(bytesField(unknown, 1), { 1: 'apiVersion', 2: 'kind' });
  const raw = bytesField(unknown, 2) ?? Buffer.alloc(0);
  const spec = bytesField(raw, 2);
  if (typeMeta.kind === 'SelfSubjectRulesReview') return { kind: typeMeta.kind, spec: strings(spec, { 1: 'namespace' }) };
  const resourceAttributes = spec === undefined ? undefined : bytesField(spec, 1);
  const nonResourceAttributes = spec === undefined ? undefined : bytesField(spec, 2);
  const result: Record<string, unknown> = {};
  if (resourceAttributes !== undefined) {
    result.resourceAttributes = strings(resourceAttributes, { 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' });
  }
  if (nonResourceAttributes !== undefined) result.nonResourceAttributes = strings(nonResourceAttributes, { 1: 'path', 2: 'verb' });
  return { kind: typeMeta.kind ?? 'SelfSubjectAccessReview', spec: result };
}
