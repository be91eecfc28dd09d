/** The revision a workload runs, for `iac status` to compare with the branch head. */
import type { WorkloadObject } from './types.js';

/**
 * The tag of an image reference (`registry:5000/team/app:1.2` → `1.2`), the digest when pinned
 * by digest only, or `latest` (what an untagged reference means).
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const withoutDigest = at === -1 ? image : image.slice(0, at);
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > lastSlash) return withoutDigest.slice(colon + 1);
  if (at !== -1) return image.slice(at + 1);
  return 'latest';
}

export function workloadImages(object: WorkloadObject): string[] {
  const containers = object.spec?.template?.spec?.containers ?? [];
  return containers.map((container) => container.image ?? '').filter((image) => image !== '');
}

/**
 * The annotation's value when `annotation` is given (on the workload, else its pod template),
 * otherwise the first container's image tag; undefined when neither exists.
 */
export function runningRevision(object: WorkloadObject, annotation?: string): string | undefined {
  if (annotation !== undefined) {
    return object.metadata?.annotations?.[annotation] ?? object.spec?.template?.metadata?.annotations?.[annotation];
  }
  const image = workloadImages(object)[0];
  return image === undefined ? undefined : imageTag(image);
}

/** What the run expects a workload to run: its commit, and where else the commit may be written. */
export interface ExpectedRevision {
  /** The run's full commit SHA (40 hex). */
  sha: string;
  /** An annotation (on the workload or its pod template) holding the deployed commit. */
  annotation?: string;
  /** Shortest prefix of `sha` that is unique in the repository (git rev-parse --short). Default 7. */
  minPrefixLength?: number;
}

/** The commit a pod template runs, when it can be read. */
export type TemplateRevision =
  | { readable: true; value: string; ours: boolean; source: 'annotation' | 'image' }
  | { readable: false; images: string[] };

const MIN_PREFIX = 7;
const HEX = /^[0-9a-f]{7,64}$/i;

/** A tag or annotation names `sha` when it is the whole SHA or a long-enough prefix of it. */
export function namesCommit(value: string, sha: string, minPrefixLength = MIN_PREFIX): boolean {
  const text = value.toLowerCase();
  const full = sha.toLowerCase();
  return text === full || (HEX.test(text) && text.length >= Math.max(MIN_PREFIX, minPrefixLength) && full.startsWith(text));
}

/**
 * Does an image tag claim to be a commit? Hex of 7–40 characters; an all-digit tag only counts when
 * it names our commit (it is more likely a build number).
 */
function looksLikeCommit(tag: string): boolean {
  return /^[0-9a-f]{7,40}$/i.test(tag) && /[a-f]/i.test(tag);
}

function allImages(object: WorkloadObject): string[] {
  const spec = object.spec?.template?.spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c) => c.image ?? '').filter((image) => image !== '');
}

/**
 * Which commit the workload's pod template runs: the configured annotation (workload, then pod
 * template), else an image tag equal to the SHA or a prefix of it, else the first tag that looks
 * like another commit; unreadable when none of these exists (`:latest`, `v2`, digest only).
 */
export function templateRevision(object: WorkloadObject, expected: ExpectedRevision): TemplateRevision {
  if (expected.annotation !== undefined) {
    const value = object.metadata?.annotations?.[expected.annotation] ?? object.spec?.template?.metadata?.annotations?.[expected.annotation];
    if (value !== undefined && value.trim() !== '') {
      return { readable: true, value: value.trim(), ours: namesCommit(value.trim(), expected.sha, expected.minPrefixLength), source: 'annotation' };
    }
  }
  const images = allImages(object);
  const tags = images.map(imageTag);
  const ours = tags.find((tag) => namesCommit(tag, expected.sha, expected.minPrefixLength));
  if (ours !== undefined) return { readable: true, value: ours, ours: true, source: 'image' };
  const other = tags.find(looksLikeCommit);
  if (other !== undefined) return { readable: true, value: other, ours: false, source: 'image' };
  return { readable: false, images };
}

/** `89a72f5` for a long hex commit, the text itself otherwise. */
export function shortRevision(value: string): string {
  return /^[0-9a-f]{8,64}$/i.test(value) ? value.slice(0, 7) : value;
}
