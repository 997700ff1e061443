import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startAdminServer, type AdminServer } from '../../src/admin/server.ts';
import { typeSyncState } from '../../src/admin/views.ts';
import { meshfed } from '../helpers/meshfed.ts';
import { MemorySources } from './fixtures.ts';

let src: MemorySources;
let admin: AdminServer;
before(async () => {
  src = new MemorySources();
  admin = await startAdminServer(src, { port: 0 });
});
after(() => admin.close());

test('proxy type state follows istioctl proxy-status semantics', () => {
  assert.equal(typeSyncState({ names: [], versionSent: '', versionAcked: '' }), 'NOT SENT');
  assert.equal(typeSyncState({ names: [], versionSent: '2', versionAcked: '2' }), 'SYNCED');
  assert.equal(typeSyncState({ names: [], versionSent: '3', versionAcked: '2', lastNonce: 'b' }), 'STALE');
  // an old NACK does not make the current response NACKED
  assert.equal(typeSyncState({ names: [], versionSent: '3', versionAcked: '2', lastNonce: 'b', lastNack: { nonce: 'a', message: 'bad', at: '' } }), 'STALE');
  assert.equal(typeSyncState({ names: [], versionSent: '3', versionAcked: '2', lastNonce: 'b', lastNack: { nonce: 'b', message: 'bad', at: '' } }), 'NACKED');
});

test('meshfed status prints clusters, proxies and gateways tables', async () => {
  src.regionDown('us-west');
  const r = await meshfed(['status', '--admin', `127.0.0.1:${admin.port}`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(r.stdout, /^CLUSTERS\nNAME\s+REGION\s+NETWORK\s+STATE\s+SERVICES\s+ENDPOINTS\s+LAST SYNC/m);
  assert.ok(lines.some((l) => /^east-1\s+us-east\s+net-east\s+CONNECTED\s+1\s+2\s+\d+s ago/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^west-1\s+us-west\s+net-west\s+UNREACHABLE .*ECONNREFUSED/.test(l)), r.stdout);
  const proxy = lines.find((l) => l.startsWith('sidecar~10.1.0.1'));
  assert.match(proxy ?? '', /east-1\s+sidecar\s+SYNCED\s+SYNCED\s+STALE\s+NACKED\s+NOT SENT/);
  assert.ok(lines.some((l) => /^us-west\s+net-west\s+west-1\s+172\.18\.0\.20:15443\s+UNREACHABLE/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^us-east\s+net-east\s+east-1\s+172\.18\.0\.10:15443\s+HEALTHY/.test(l)), r.stdout);
});

test('meshfed status fails with one clear line on an unreachable or malformed --admin', async () => {
  for (const addr of ['127.0.0.1:1', 'not-an-address']) {
    const r = await meshfed(['status', '--admin', addr]);
    assert.equal(r.code, 1, `${addr}: ${r.stdout}${r.stderr}`);
    const errLines = r.stderr.trim().split('\n');
    assert.equal(errLines.length, 1, r.stderr);
    assert.match(errLines[0]!, addr === 'not-an-address' ? /--admin must be HOST:PORT/ : /cannot reach meshfed admin server at http:\/\/127\.0\.0\.1:1/);
  }
});
