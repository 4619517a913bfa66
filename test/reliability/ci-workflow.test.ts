import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The CI example reads pull requests' recipes: it must follow GitHub's hardening guidance for such workflows.
// Least-privilege permissions (only a step that comments may write to pull requests), no token persisted in
// .git/config by the checkout, and never pull_request_target with the pull request's head checked out.

const FILE = path.resolve(__dirname, '../../examples/ci/recipes.yml');

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: Record<string, string> | string;
  steps: Step[];
}

/** Whether a job's steps post to a pull request (a comment): the only kind allowed to write to it. */
const comments = (job: Job) => job.steps.some((s) => /gh (pr|api)\b.*comment|issues\/.*\/comments/.test(s.run ?? ''));

describe('examples/ci/recipes.yml', () => {
  const wf = parse(fs.readFileSync(FILE, 'utf8')) as {
    on: Record<string, unknown>;
    permissions?: unknown;
    jobs: Record<string, Job>;
  };

  it('declares least-privilege permissions: read the repository; write to pull requests only where it comments', () => {
    expect(wf.permissions).toEqual({ contents: 'read' });
    for (const [name, job] of Object.entries(wf.jobs)) {
      expect(job.permissions, name).toBeTypeOf('object');
      const perms = job.permissions as Record<string, string>;
      for (const [scope, level] of Object.entries(perms)) {
        if (level === 'read' || level === 'none') continue;
        expect(`${name}: ${scope}: ${level}`).toBe(`${name}: pull-requests: write`);
        expect(comments(job), `${name} writes to pull requests without commenting`).toBe(true);
      }
    }
  });

  it('checks out without persisting the token', () => {
    const checkouts = Object.values(wf.jobs).flatMap((j) =>
      j.steps.filter((s) => s.uses?.startsWith('actions/checkout')),
    );
    expect(checkouts.length).toBeGreaterThan(0);
    for (const c of checkouts) expect(c.with?.['persist-credentials']).toBe(false);
  });

  it('never runs on pull_request_target with the head checked out', () => {
    const target = 'pull_request_target' in wf.on;
    const headRef = JSON.stringify(wf.jobs).match(/github\.event\.pull_request\.head|github\.head_ref/);
    expect(target && headRef).toBeFalsy();
    expect(target).toBe(false);
  });
});
