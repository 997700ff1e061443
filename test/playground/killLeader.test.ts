// `meshfed dev up --control-plane-replicas 2` and `meshfed dev kill-leader` as a user runs them: the leading replica
// ends as a crash would (no Lease hand-over), another leads within the lease duration + 2 s (short lease flags
// here), `meshfed status` says so, and the demo's proxies keep reaching echo.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MESHFED_BIN, meshfed } from '../helpers/meshfed.ts';
import { until } from '../helpers/controlPlaneReplica.ts';

const LEASE_S = 4;

test('meshfed dev kill-leader: another control-plane replica leads within the lease duration + 2 s; status shows it; proxies keep working', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-killleader-'));
  const stateArgs = ['--state-dir', dir];
  const child = spawn(process.execPath, [MESHFED_BIN, 'dev', 'up', ...stateArgs, '--xds-port', '0', '--secure-port', '0', '--admin-port', '0', '--control-plane-replicas', '2',
    '--leader-elect-lease-duration', `${LEASE_S}s`, '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  try {
    await until(`dev up to start:\n${out}\n${err.slice(-2000)}`, 180_000, () => { assert.equal(child.exitCode, null, `dev up exited:\n${out}\n${err.slice(-2000)}`); return out.includes('Ctrl-C stops everything'); });
    const replicas = [...(/control plane: 2 replicas \((.*)\)/.exec(out)?.[1] ?? '').matchAll(/(cp-\d+) admin (127\.0\.0\.1:\d+)/g)].map((m) => ({ id: m[1]!, admin: m[2]! }));
    assert.equal(replicas.length, 2, out);
    assert.match(out, /meshfed dev kill-leader/);
    const leaderOf = async (admin: string): Promise<string | undefined> => {
      const st = await meshfed(['status', '--admin', admin]);
      return st.code === 0 ? /CONTROL PLANE\n.*\n\S+\s+(?:LEADER|FOLLOWER)\s+(\S+)/.exec(st.stdout)?.[1] : undefined;
    };
    const first = await until('a leader', 30_000, async () => { const l = await leaderOf(replicas[0]!.admin); return l && replicas.some((r) => r.id === l) ? l : undefined; });
    const other = replicas.find((r) => r.id !== first)!;

    const k0 = performance.now();
    const kill = await meshfed(['dev', 'kill-leader', ...stateArgs]);
    assert.equal(kill.code, 0, kill.stderr);
    // the leader stopped renewing before the command returned (this process's start-up is not counted)
    const t0 = performance.now();
    const killMs = t0 - k0;
    assert.match(kill.stdout, new RegExp(`replica ${first} \\(the leader\\) ended without releasing its Lease`));
    assert.match(kill.stdout, /meshfed status --admin 127\.0\.0\.1:\d+/);
    // the follower, or the replacement started on the killed one's ports, takes over once the Lease expires
    const next = await until('another replica to lead', 30_000, async () => {
      const l = await fetch(`http://${other.admin}/debug/leader`).then(async (r) => ((await r.json()) as { leader: string }).leader, () => undefined);
      return l && l !== first ? l : undefined;
    });
    const takeoverMs = performance.now() - t0;
    process.stderr.write(`# ${first} killed; ${next} leads after ${Math.round(takeoverMs)} ms (lease ${LEASE_S} s; the kill command took ${Math.round(killMs)} ms)\n`);
    assert.ok(takeoverMs <= (LEASE_S + 2) * 1000, `takeover after ${Math.round(takeoverMs)} ms`);
    const st = await meshfed(['status', '--admin', other.admin]);
    assert.match(st.stdout, new RegExp(`CONTROL PLANE\\n.*\\n${other.id}\\s+${other.id === next ? 'LEADER' : 'FOLLOWER'}\\s+${next}\\s`), st.stdout);

    // the demo's sidecars moved to a live replica and still reach echo
    const call = await meshfed(['dev', 'call', 'echo', '--from', 'east-1', ...stateArgs]);
    assert.equal(call.code, 0, call.stderr);
    await until('the replacement to be up', 60_000, () => /started in place of/.test(out));
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
});
