import { hostname } from 'node:os';
import { InterruptedError, PreflightError } from '../errors.js';

/** Who holds an environment while a run changes it; what `status` and a refused run show. */
export interface LeaseHolder {
  user: string;
  host: string;
  pid: number;
  command: string;
  environment: string;
  commit: string;
  run: string;
  /** When the holder took the lease (ISO). */
  since: string;
  /** Last renewal (ISO); with `durationMs` it says when the lease expires if the holder dies. */
  renewedAt: string;
  durationMs: number;
}

/** A lease as stored, with the version its next compare-and-swap must name. */
export interface StoredLease {
  holder: LeaseHolder | undefined;
  version: string;
}

/**
 * Where a lease lives: a Kubernetes Lease (resourceVersion) or a ref on the git remote (its SHA).
 * Every write is a compare-and-swap: `create` fails if one exists, `replace`/`remove` fail if the
 * stored version is no longer `version` — each returns false then, never overwriting another run.
 */
export interface LeaseStore {
  /** Where the lease is, for messages ("Lease iac-prod in namespace shop", "origin refs/iac/locks/prod"). */
  readonly where: string;
  read(signal?: AbortSignal): Promise<StoredLease | undefined>;
  create(holder: LeaseHolder, signal?: AbortSignal): Promise<StoredLease | false>;
  replace(version: string, holder: LeaseHolder, signal?: AbortSignal): Promise<StoredLease | false>;
  remove(version: string, signal?: AbortSignal): Promise<boolean>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The holder no longer holds it: it stopped renewing past the lease's duration, or it ran on this
 * machine and its process is gone (a run killed here frees its environment at once, not 30 s later).
 */
export function isExpired(holder: LeaseHolder, now = Date.now()): boolean {
  if (Date.parse(holder.renewedAt) + holder.durationMs < now) return true;
  return holder.host === hostname() && holder.pid > 0 && holder.pid !== process.pid && !processAlive(holder.pid);
}

export function describeHolder(holder: LeaseHolder): string {
  return `${holder.user} on ${holder.host} (iac ${holder.command} ${holder.environment} of ${holder.commit.slice(0, 7)}, since ${holder.since.slice(11, 19)} UTC, run ${holder.run})`;
}

export interface HeldLease {
  /** Stops renewing and gives the lease back (best effort: an expired lease frees itself). */
  release(): Promise<void>;
  /** Set when a renewal found the lease taken over: the run no longer holds its environment. */
  readonly lost: string | undefined;
}

export interface AcquireOptions {
  holder: Omit<LeaseHolder, 'since' | 'renewedAt'>;
  /** How long to wait for another run to finish (0: refuse at once). */
  waitMs: number;
  signal: AbortSignal;
  /** Told once when the run starts waiting, with the holder. */
  onWait?: (holder: LeaseHolder) => void;
  /** Poll interval while waiting; default 1 s. */
  pollMs?: number;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(new InterruptedError())), { once: true });
  });

/**
 * Takes the environment's lease: creates it, or takes over one that was released or expired (its
 * holder died), by compare-and-swap; waits up to `waitMs` for a live holder, else refuses with exit 3
 * naming it. The lease is renewed at a third of its duration while the run lives.
 */
export async function acquireLease(store: LeaseStore, options: AcquireOptions): Promise<HeldLease> {
  const deadline = Date.now() + options.waitMs;
  let told = false;
  for (;;) {
    if (options.signal.aborted) throw new InterruptedError();
    const now = new Date().toISOString();
    const mine: LeaseHolder = { ...options.holder, since: now, renewedAt: now };
    const current = await store.read(options.signal);
    let taken: StoredLease | false = false;
    if (current === undefined) taken = await store.create(mine, options.signal);
    else if (current.holder === undefined || isExpired(current.holder)) taken = await store.replace(current.version, mine, options.signal);
    if (taken) return renewing(store, taken, mine);
    // Someone else holds it (or won the race just now): wait, or refuse.
    const holder = current?.holder ?? (await store.read(options.signal))?.holder;
    if (holder !== undefined && Date.now() >= deadline) {
      throw new PreflightError('lock.held', `${holder.environment} is being deployed by ${describeHolder(holder)}: nothing was changed`, {
        hint: options.waitMs > 0 ? `iac unlock ${holder.environment}   # only if that run is dead; its lease expires by itself otherwise` : `wait for it with --wait-lock 10m, or \`iac unlock ${holder.environment}\` if that run is dead`,
        details: [`lease: ${store.where}`],
      });
    }
    if (holder !== undefined && !told) {
      told = true;
      options.onWait?.(holder);
    }
    await sleep(Math.min(options.pollMs ?? 1000, Math.max(50, deadline - Date.now())), options.signal);
  }
}

function renewing(store: LeaseStore, taken: StoredLease, mine: LeaseHolder): HeldLease {
  let version = taken.version;
  let lost: string | undefined;
  let stopped = false;
  let renewal: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewal = renewal.then(async () => {
      if (stopped || lost) return;
      const next = await store.replace(version, { ...mine, renewedAt: new Date().toISOString() }).catch(() => undefined);
      if (next === false) lost = `the lease on ${mine.environment} was taken over (${store.where})`;
      else if (next) version = next.version;
    });
  }, Math.max(1000, Math.floor(mine.durationMs / 3)));
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    async release() {
      stopped = true;
      clearInterval(timer);
      await renewal;
      if (!lost) await store.remove(version).catch(() => false);
    },
  };
}
