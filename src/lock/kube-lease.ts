import type { KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/client.js';
import type { LeaseHolder, LeaseStore, StoredLease } from './lease.js';

const HOLDER_ANNOTATION = 'iac.dev/holder';

interface LeaseObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { holderIdentity?: string | null; leaseDurationSeconds?: number | null; acquireTime?: string | null; renewTime?: string | null };
}

/** Kubernetes' MicroTime: RFC 3339 with microseconds. */
function microTime(iso: string): string {
  return iso.replace(/\.(\d{3})Z$/, '.$1000Z');
}

function isStatus(error: unknown, code: number): boolean {
  return error instanceof KubeApiError && error.statusCode === code;
}

/**
 * An environment's lease as a coordination.k8s.io/v1 Lease (`iac-<env>`) in its namespace: what
 * `kubectl get lease` shows (holderIdentity, renewTime), with iac's details in an annotation.
 * resourceVersion makes every write a compare-and-swap.
 */
export class KubeLeaseStore implements LeaseStore {
  readonly where: string;
  private readonly collection: string;
  private readonly path: string;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.where = `Lease ${name} in namespace ${namespace}`;
    this.collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    this.path = `${this.collection}/${encodeURIComponent(name)}`;
  }

  private body(holder: LeaseHolder, resourceVersion?: string): LeaseObject & Record<string, unknown> {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(resourceVersion ? { resourceVersion } : {}), annotations: { [HOLDER_ANNOTATION]: JSON.stringify(holder) } },
      spec: {
        holderIdentity: `${holder.user} @ ${holder.host} (${holder.command} ${holder.commit.slice(0, 7)})`,
        leaseDurationSeconds: Math.max(1, Math.round(holder.durationMs / 1000)),
        acquireTime: microTime(holder.since),
        renewTime: microTime(holder.renewedAt),
      },
    };
  }

  private stored(object: LeaseObject): StoredLease {
    const version = object.metadata?.resourceVersion ?? '';
    const spec = object.spec ?? {};
    if (!spec.holderIdentity) return { holder: undefined, version };
    try {
      const holder = JSON.parse(object.metadata?.annotations?.[HOLDER_ANNOTATION] ?? '') as LeaseHolder;
      if (typeof holder.renewedAt === 'string' && typeof holder.durationMs === 'number') return { holder: { ...holder, renewedAt: spec.renewTime ?? holder.renewedAt }, version };
    } catch {
      // a Lease written by something else: read what the spec says
    }
    const renewed = spec.renewTime ?? spec.acquireTime ?? new Date(0).toISOString();
    return {
      version,
      holder: { user: spec.holderIdentity, host: '?', pid: 0, command: '?', environment: this.name.replace(/^iac-/, ''), commit: '?', run: '?', since: spec.acquireTime ?? renewed, renewedAt: renewed, durationMs: (spec.leaseDurationSeconds ?? 15) * 1000 },
    };
  }

  async read(signal?: AbortSignal): Promise<StoredLease | undefined> {
    try {
      return this.stored(await this.client.getJson<LeaseObject>(this.path, undefined, signal));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async create(holder: LeaseHolder, signal?: AbortSignal): Promise<StoredLease | false> {
    try {
      return this.stored(await this.client.send<LeaseObject>('POST', this.collection, this.body(holder), signal));
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  async replace(version: string, holder: LeaseHolder, signal?: AbortSignal): Promise<StoredLease | false> {
    try {
      return this.stored(await this.client.send<LeaseObject>('PUT', this.path, this.body(holder, version), signal));
    } catch (error) {
      if (isStatus(error, 409) || isStatus(error, 404)) return false;
      throw error;
    }
  }

  async remove(version: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.client.send('DELETE', this.path, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: version } }, signal);
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return true;
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }
}
