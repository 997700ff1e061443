// --kubeconfig FILE that is not a usable kubeconfig: one line naming the file and what to fix, exit 1 — never a
// JavaScript error (an empty file made client-node throw "Cannot read properties of undefined (reading 'clusters')").
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { meshfed } from '../helpers/meshfed.ts';

const dir = mkdtempSync(join(tmpdir(), 'meshfed-kubeconfig-'));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

test('meshfed cluster add --kubeconfig EMPTYFILE says the file has no clusters (exit 1), for empty, comment-only and cluster-less files', async () => {
  for (const [name, text, want] of [
    ['empty.yaml', '', /remote kubeconfig \S+empty\.yaml is empty: it has no clusters/],
    ['comment.yaml', '# nothing here\n', /remote kubeconfig \S+comment\.yaml is empty: it has no clusters/],
    ['noclusters.yaml', 'apiVersion: v1\nkind: Config\n', /remote kubeconfig \S+noclusters\.yaml has no clusters/],
    ['list.yaml', '- a\n', /remote kubeconfig \S+list\.yaml is not a kubeconfig/],
  ] as const) {
    const r = await meshfed(['cluster', 'add', '--kubeconfig', file(name, text), '--name', 'east-2', '--config-kubeconfig', file('cp.yaml', '')]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.match(r.stderr, /kubectl config view --minify --flatten/, 'it says how to make one');
    assert.doesNotMatch(r.stderr, /Cannot read properties|TypeError|\n\s+at /, `${name}: a JavaScript error leaked: ${r.stderr}`);
  }
});

test('the control plane\'s kubeconfig (--config-kubeconfig) gets the same check', async () => {
  const r = await meshfed(['cluster', 'list', '--config-kubeconfig', file('cp-empty.yaml', '')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /control-plane kubeconfig \S+cp-empty\.yaml is empty: it has no clusters/);
});
