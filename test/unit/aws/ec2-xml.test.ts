import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeInstancesXml, errorXml } from '../../../src/sandbox/ec2-xml.js';
import { TAGGED_INSTANCES } from '../../fixtures/ec2/scenario-tagged.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/ec2/${name}`, import.meta.url), 'utf8');

/** Whitespace between elements and the per-response ids are not part of the shape. */
function shape(xml: string): string {
  return xml
    .replace(/>\s+</g, '><')
    .trim()
    .replace(/<requestId>[^<]*<\/requestId>/i, '<requestId/>')
    .replace(/<RequestID>[^<]*<\/RequestID>/, '<RequestID/>')
    .replace(/<nextToken>[^<]*<\/nextToken>/, '<nextToken/>');
}

const withoutEnvironmentTag = TAGGED_INSTANCES.slice(0, 3).map((i) => {
  const { Environment: _env, ...tags } = i.tags ?? {};
  return { ...i, tags };
});

describe('sandbox XML has the shape of the recorded DescribeInstances pages', () => {
  it('page 1 (two instances in one reservation, with nextToken) and page 2 match element for element', () => {
    expect(shape(describeInstancesXml(withoutEnvironmentTag.slice(0, 2), 'id', 'token'))).toBe(
      shape(fixture('derived-describe-instances-tagged-page1.xml')),
    );
    expect(shape(describeInstancesXml(withoutEnvironmentTag.slice(2), 'id'))).toBe(
      shape(fixture('derived-describe-instances-tagged-page2.xml')),
    );
  });

  it('an empty result is <reservationSet/>', () => {
    expect(shape(describeInstancesXml([], 'id'))).toBe(shape(fixture('derived-describe-instances-empty.xml')));
  });

  it('errors match the captured bodies', () => {
    expect(shape(errorXml('AuthFailure', 'AWS was not able to validate the provided access credentials', 'x'))).toBe(
      shape(fixture('error-auth-failure.xml')),
    );
    expect(shape(errorXml('RequestLimitExceeded', 'Request limit exceeded.', 'x'))).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>${shape(fixture('error-request-limit-exceeded.xml'))}`,
    );
  });
});
