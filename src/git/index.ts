/** The git adapter: read the repository, push a branch, promote one branch into another. */
export { openRepo, parseCommitLog, remoteHeads } from './repo.js';
export type { AheadBehind, CommitInfo, FetchOptions, FetchResult, GitRepo } from './repo.js';
export { pushCommit, pushPlan } from './push.js';
export type { PushOptions, PushPlan, PushResult } from './push.js';
export { preparePromotion, promoteMerge, promotePreview, pushPromotion } from './promote.js';
export type {
  BranchRelation,
  LocalFollow,
  PromoteOptions,
  PromotePreview,
  PromoteResult,
  PromoteTarget,
  PreparedPromotion,
} from './promote.js';
export type { GitEvent, GitEventListener, MergeStrategy } from './events.js';
export { assertBranchName, assertRemoteName, isValidBranchName } from './names.js';
export { stripCredentials } from './sanitize.js';
