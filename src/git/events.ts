/** Progress events of the git adapter; the pipeline layer turns them into task output. */
export type GitEvent =
  | { type: 'fetching'; remote: string; branches: string[] }
  | { type: 'fetched'; remote: string }
  | { type: 'pushing'; remote: string; refspec: string; sha: string }
  | { type: 'pushed'; remote: string; refspec: string; sha: string; alreadyUpToDate: boolean }
  | { type: 'merging'; from: string; to: string; strategy: MergeStrategy }
  | { type: 'merge-worktree'; path: string }
  | { type: 'merged'; sha: string }
  | { type: 'local-updated'; branch: string; sha: string; how: 'ref' | 'fast-forward' }
  | { type: 'local-skipped'; branch: string; reason: string };

/** How a merge commit is built without touching the user's checkout. */
export type MergeStrategy = 'merge-tree' | 'worktree';

export type GitEventListener = (event: GitEvent) => void;
