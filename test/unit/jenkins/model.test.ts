import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractRevisions, parseBuild, parseJob, parseQueueItem, pickRevision } from '../../../src/jenkins/model.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/jenkins/${name}`, import.meta.url), 'utf8'));

describe('queue items (fixtures from real Jenkins responses)', () => {
  it.each([
    ['queue-item-waiting.json', { id: 668, left: false, state: 'waiting', why: 'In the quiet period. Expires in 4.6 sec' }],
    ['queue-item-blocked.json', { id: 143, left: false, state: 'blocked', why: 'Build #9 is already in progress (ETA:15 sec)' }],
    ['queue-item-buildable-stuck.json', { id: 668, left: false, state: 'stuck', why: 'There are no nodes with the label ‘xxxx’' }],
    ['queue-item-cancelled.json', { id: 143, left: true, cancelled: true, executable: undefined }],
    ['queue-item-left-started.json', { id: 143, left: true, cancelled: false, executable: { number: 14, url: 'http://localhost:8082/job/test/14/' } }],
    ['queue-item-left-started-pipeline.json', { id: 599, left: true, cancelled: false, executable: { number: 54, url: 'http://0.0.0.0:8080/job/folder/job/pipeline/54/' } }],
  ])('%s', (name, expected) => {
    expect(parseQueueItem(fixture(name))).toEqual(expected);
  });

  it('items without _class (old Jenkins) are judged by their fields', () => {
    const list = fixture('queue-list-buildable.json') as { items: unknown[] };
    expect(list.items.map((item) => parseQueueItem(item))).toEqual([
      { id: 7, left: false, state: 'buildable', why: 'Waiting for next available executor' },
      { id: 6, left: false, state: 'buildable', why: 'Waiting for next available executor' },
    ]);
  });

  it('a LeftItem with executable null and not cancelled is transient (no build yet)', () => {
    const item = { _class: 'hudson.model.Queue$LeftItem', id: 5, cancelled: false, executable: null };
    expect(parseQueueItem(item)).toEqual({ id: 5, left: true, cancelled: false, executable: undefined });
  });

  it('rejects bodies that are not queue items', () => {
    expect(() => parseQueueItem('<html>')).toThrow();
    expect(() => parseQueueItem({ why: null })).toThrow(/no id/);
  });
});

describe('builds', () => {
  it('running freestyle and pipeline builds: building, no result, duration 0', () => {
    expect(parseBuild(fixture('build-running-freestyle.json'))).toMatchObject({ number: 14, building: true, result: null, durationMs: 0, queueId: 151 });
    expect(parseBuild(fixture('build-running-pipeline.json'))).toMatchObject({ number: 53, building: true, result: null, queueId: 152 });
  });

  it('finished builds: result, duration, parameters', () => {
    expect(parseBuild(fixture('build-finished-freestyle.json'))).toMatchObject({
      number: 14,
      building: false,
      result: 'SUCCESS',
      durationMs: 599334,
      timestamp: 1619167515987,
      parameters: { arg: 'value1' },
      revisions: [],
    });
    expect(parseBuild(fixture('build-finished-pipeline.json'))).toMatchObject({ number: 52, result: 'FAILURE', parameters: { parameter1: 'value1', parameter2: 'value2' } });
    expect(parseBuild(fixture('build-finished-git-changesets.json'))).toMatchObject({ number: 10, result: 'SUCCESS', parameters: { bear: 'true', fish: 'salmon' } });
  });

  it('a result set early (Pipeline) does not end the build: only building:false does', () => {
    const early = { ...(fixture('build-running-pipeline.json') as object), result: 'UNSTABLE' };
    expect(parseBuild(early)).toMatchObject({ building: true, result: 'UNSTABLE' });
  });
});

describe('revisions (BuildData and SCMRevisionAction shapes from protocols/jenkins.md §4)', () => {
  const rev = (sha: string) => ({ SHA1: sha, branch: [{ SHA1: sha, name: 'refs/remotes/origin/main' }] });
  const app = 'a'.repeat(40);
  const library = 'b'.repeat(40);
  const actions = [
    { _class: 'hudson.model.CauseAction', causes: [] },
    { _class: 'hudson.plugins.git.util.BuildData', lastBuiltRevision: rev(library), remoteUrls: ['https://git.example.com/shared-lib.git'], scmName: '' },
    { _class: 'hudson.plugins.git.util.BuildData', lastBuiltRevision: rev(app.toUpperCase()), remoteUrls: ['https://git.example.com/shop.git'], scmName: '' },
    {},
  ];

  it('extracts every BuildData.lastBuiltRevision (lower-cased)', () => {
    expect(extractRevisions(actions)).toEqual([
      { sha: library, source: 'BuildData', remoteUrls: ['https://git.example.com/shared-lib.git'] },
      { sha: app, source: 'BuildData', remoteUrls: ['https://git.example.com/shop.git'] },
    ]);
  });

  it('picks the one matching the pushed SHA among several, else the first', () => {
    expect(pickRevision(extractRevisions(actions), app)?.sha).toBe(app);
    expect(pickRevision(extractRevisions(actions))?.sha).toBe(library);
  });

  it('prefers the multibranch SCMRevisionAction when nothing matches', () => {
    const withScm = [
      ...actions,
      { _class: 'jenkins.scm.api.SCMRevisionAction', revision: { _class: 'jenkins.plugins.git.AbstractGitSCMSource$SCMRevisionImpl', hash: 'c'.repeat(40) } },
    ];
    expect(pickRevision(extractRevisions(withScm), 'd'.repeat(40))).toEqual({ sha: 'c'.repeat(40), source: 'SCMRevisionAction', remoteUrls: [] });
  });
});

describe('job info', () => {
  it('parameterized job (property[].parameterDefinitions) in the queue', () => {
    expect(parseJob(fixture('job-info-parameterized-in-queue.json'))).toMatchObject({
      parameterNames: ['bear', 'fish'],
      parameterized: true,
      buildable: true,
      inQueue: true,
      lastBuild: { number: 7, url: 'http://localhost:32769/job/fish/7/' },
    });
  });

  it('never-built job: no parameters, no last build', () => {
    const job = parseJob(fixture('job-info-never-built.json'));
    expect(job).toMatchObject({ parameterNames: [], parameterized: false, buildable: true, inQueue: false });
    expect(job.lastBuild).toBeUndefined();
  });

  it('pipeline job and multibranch project', () => {
    expect(parseJob(fixture('job-info-pipeline.json'))).toMatchObject({ parameterized: false, buildable: true, lastBuild: { number: 52 } });
    // A multibranch project is not a buildable job.
    expect(parseJob(fixture('job-multibranch.json'))).toMatchObject({ buildable: false, parameterized: false });
  });
});
