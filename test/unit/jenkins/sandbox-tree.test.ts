import { describe, expect, it } from 'vitest';
import { parseTree, prune } from '../../../src/sandbox/jenkins-tree.js';

describe('the sandbox’s tree= (stapler NamedPathPruner)', () => {
  const job = {
    _class: 'J',
    name: 'deploy',
    inQueue: false,
    builds: [
      { _class: 'R', number: 3, result: 'SUCCESS', actions: [{ _class: 'B', lastBuiltRevision: { SHA1: 'x', branch: [] }, remoteUrls: ['u'] }, {}] },
      { _class: 'R', number: 2, result: 'FAILURE', actions: [] },
      { _class: 'R', number: 1, result: 'SUCCESS', actions: [] },
    ],
  };

  it('keeps named properties, ranges and nested lists; _class always survives', () => {
    expect(prune(job, parseTree('builds[number,actions[lastBuiltRevision[SHA1]]]{0,1},inQueue'))).toEqual({
      _class: 'J',
      inQueue: false,
      builds: [{ _class: 'R', number: 3, actions: [{ _class: 'B', lastBuiltRevision: { SHA1: 'x' } }, {}] }],
    });
  });

  it('supports *, {N}, {M,} and ignores unknown names', () => {
    expect(prune(job, parseTree('builds[*]{1}'))).toEqual({ _class: 'J', builds: [{ _class: 'R', number: 2, result: 'FAILURE', actions: [] }] });
    expect((prune(job, parseTree('builds[number]{1,}')).builds as unknown[]).length).toBe(2);
    expect(prune(job, parseTree('nope,name'))).toEqual({ _class: 'J', name: 'deploy' });
  });

  it('rejects malformed trees', () => {
    expect(() => parseTree('builds[number')).toThrow();
    expect(() => parseTree(',')).toThrow();
  });
});
