// Who may talk to whom, on the playground as users run it: `meshfed dev up`, Istio objects applied with kubectl to the
// control-plane cluster, requests sent with `meshfed dev call` (curl-like -X/-d), plaintext sent straight to a pod's
// inbound as a pod without a sidecar would, and the dashboard's event stream (clusters/playground.yaml's topology on
// other loopback addresses). One sequence:
//   DENY sleep's POST → POST 403 "RBAC: access denied", GET served, the denial on the event stream; an ALLOW for
//   another principal denies sleep; a bad update is reported in the status and the last good policy stays; removing
//   it restores access; STRICT refuses plaintext, PERMISSIVE serves it, DISABLE refuses mTLS; REGISTRY_ONLY refuses an
//   external address until a ServiceEntry for it is applied (and follows an update of its endpoints).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { KUBECTL_MISSING, kubectl } from '../helpers/kubectl.ts';
import { meshfed } from '../helpers/meshfed.ts';
import { controlRequest } from '../../src/playground/control.ts';
import type { CallRequest, CallResult } from '../../src/playground/call.ts';
import type { MeshEvent } from '../../src/observe/events.ts';
import { startDevUp } from './fixtures/devUp.ts';

/** clusters/playground.yaml on other addresses: this test runs beside the other playground tests */
const TOPOLOGY = fileURLToPath(new URL('./security-topology.yaml', import.meta.url));
const SLEEP = 'cluster.local/ns/demo/sa/sleep';
const ECHO = { selector: { matchLabels: { app: 'echo' } } };
const authz = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'demo' }, spec: { ...ECHO, ...spec } });
const peerAuthn = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace: 'demo' }, spec });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Plaintext HTTP to a pod's sidecar inbound; 'refused' when the connection is closed without an answer. */
function plaintext(ip: string, port: number): Promise<{ status: number; body: string } | 'refused'> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path: '/plain', agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', () => resolve('refused'));
  });
}

async function listen(server: http.Server, host: string): Promise<number> {
  await new Promise<void>((r) => server.listen(0, host, r));
  return (server.address() as AddressInfo).port;
}

test('AuthorizationPolicy, PeerAuthentication and egress control on the playground, with dev call and kubectl', { timeout: 400_000, skip: KUBECTL_MISSING }, async () => {
  // "the internet": two HTTP servers on addresses outside every pod range
  const external = http.createServer((req, res) => res.end(`external saw ${req.headers.host} ${req.url}`));
  const moved = http.createServer((req, res) => res.end(`moved saw ${req.headers.host} ${req.url}`));
  const extPort = await listen(external, '127.0.9.9');
  const movedPort = await listen(moved, '127.0.9.10');
  const up = await startDevUp('meshfed-security-', { topology: TOPOLOGY });
  const events: MeshEvent[] = [];
  const ws = new WebSocket(`${up.adminUrl().replace('http', 'ws')}/events`);
  ws.on('message', (m) => events.push(JSON.parse(String(m)) as MeshEvent));
  const k = (args: string[], input?: string) => kubectl(up.kubeconfig, ['--context', 'east-1', ...args], input);
  const apply = async (o: unknown): Promise<void> => { const r = await k(['apply', '-f', '-'], JSON.stringify(o)); assert.equal(r.code, 0, r.stderr); };
  const del = async (kind: string, name: string, ns = 'demo'): Promise<void> => { const r = await k(['-n', ns, 'delete', kind, name]); assert.equal(r.code, 0, r.stderr); };
  const call = (...args: string[]) => meshfed(['dev', 'call', ...args, ...up.stateArgs]);
  // what `dev call` sends, without a process per poll: for the time until a change is in force
  const probe = async (target: string, request: CallRequest = {}, from = 'east-1'): Promise<CallResult> => (await controlRequest(up.controlUrl(), 'POST', '/call', { from, target, request })).body as unknown as CallResult;
  const timeUntil = async (what: string, f: () => Promise<boolean>, maxMs = 15_000): Promise<number> => {
    const t0 = Date.now();
    while (!(await f())) {
      assert.ok(Date.now() - t0 < maxMs, `${what}: not within ${maxMs} ms`);
      await sleep(50);
    }
    return Date.now() - t0;
  };
  const podAddress = async (context: string, pod: string): Promise<{ ip: string; inbound: number; metrics: string }> => {
    const r = await kubectl(up.kubeconfig, ['--context', context, '-n', 'demo', 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP} {.metadata.annotations.meshfed\\.io/inbound-port}']);
    assert.equal(r.code, 0, r.stderr);
    const [ip, port] = r.stdout.split(' ');
    return { ip: ip!, inbound: Number(port), metrics: `http://${ip}:15090/stats/prometheus` };
  };
  const figures: Record<string, number> = {};
  try {
    // ---- AuthorizationPolicy
    await apply(authz('deny-sleep-post', { action: 'DENY', rules: [{ from: [{ source: { principals: [SLEEP] } }], to: [{ operation: { methods: ['POST'] } }] }] }));
    figures.denyInForceMs = await timeUntil('sleep POST denied', async () => (await probe('echo', { method: 'POST', body: 'x=1' })).status === 403);
    const post = await call('echo', '-X', 'POST', '-d', 'x=1', '--from', 'east-1');
    assert.equal(post.code, 1, post.stdout);
    assert.match(post.stderr, /east-1 → echo \(POST\): failed \(403: RBAC: access denied\)/);
    const dataOnly = await call('echo/form', '-d', 'x=1', '-H', 'content-type: application/x-www-form-urlencoded', '--from', 'east-1');
    assert.match(dataOnly.stderr, /\(POST\): failed \(403: RBAC: access denied\)/, '-d without -X is a POST, as with curl');
    const get = await call('echo', '--from', 'east-1');
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /east-1 → echo: answered by echo-us-east-1[abc] .*caller spiffe:\/\/cluster\.local\/ns\/demo\/sa\/sleep/);
    // the denial is on the dashboard's event stream (rate-limited: a burst is one event per proxy)
    for (let i = 0; i < 20; i++) await probe('echo', { method: 'POST', body: 'x' });
    const deniedEvents = () => events.filter((e) => e.kind === 'authz.denied' && e.data?.['policy'] === 'demo/deny-sleep-post');
    figures.deniedEventMs = await timeUntil('authz.denied on /events', async () => deniedEvents().length > 0);
    assert.match(deniedEvents()[0]!.message, new RegExp(`echo-us-\\S+: \\d+ requests? from ${SLEEP} denied by AuthorizationPolicy demo/deny-sleep-post`));
    assert.ok(deniedEvents().length <= 5, `at most one event per echo proxy in 10 s: ${deniedEvents().map((e) => e.message).join('\n')}`);

    // an ALLOW for another principal: sleep is denied, GET included
    await del('authorizationpolicy', 'deny-sleep-post');
    await apply(authz('allow-other', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/other'] } }] }] }));
    await timeUntil('sleep GET denied', async () => (await probe('echo')).status === 403);
    const denied = await call('echo', '--from', 'west-1');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /west-1 → echo: failed \(403: RBAC: access denied\)/);

    // a bad field: reported in the object's status, the previous version stays enforced
    await apply(authz('allow-other', { rules: [{ from: [{ source: { principals: ['cluster.local/*/sa/other'] } }] }] }));
    await timeUntil('status names the field', async () => /spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]: "cluster\.local\/\*\/sa\/other" may use "\*" only/.test(
      (await k(['-n', 'demo', 'get', 'authorizationpolicy', 'allow-other', '-o', 'jsonpath={.status.conditions[0].reason}: {.status.conditions[0].message}'])).stdout));
    assert.equal((await call('echo', '--from', 'east-1')).code, 1, 'the last good ALLOW still denies sleep');

    // removing it restores access (time from kubectl delete returning to the first request served)
    await del('authorizationpolicy', 'allow-other');
    figures.removeRestoresMs = await timeUntil('access restored', async () => (await probe('echo')).ok);
    assert.equal((await call('echo', '-X', 'POST', '-d', 'x=1', '--from', 'east-1')).code, 0);

    // ---- PeerAuthentication: plaintext from a pod without a sidecar, straight to echo's inbound
    const east1a = await podAddress('east-1', 'echo-us-east-1a');
    const served = await plaintext(east1a.ip, east1a.inbound);
    assert.ok(served !== 'refused' && served.status === 200 && /"pod":"echo-us-east-1a"/.test(served.body), `PERMISSIVE (Istio's default) serves plaintext: ${JSON.stringify(served)}`);
    await apply(peerAuthn('default', { mtls: { mode: 'STRICT' } }));
    figures.strictInForceMs = await timeUntil('STRICT refuses plaintext', async () => (await plaintext(east1a.ip, east1a.inbound)) === 'refused');
    assert.equal((await call('echo', '--from', 'east-1')).code, 0, 'mTLS from sleep\'s sidecar is served');
    await apply(peerAuthn('echo-permissive', { ...ECHO, mtls: { mode: 'PERMISSIVE' } }));
    await timeUntil('PERMISSIVE serves plaintext', async () => { const r = await plaintext(east1a.ip, east1a.inbound); return r !== 'refused' && r.status === 200; });
    // DISABLE (one workload): plaintext served, an mTLS connection closed — sleep's sidecar, which always speaks
    // mTLS, is refused by that pod and served by the other echo of its cluster
    // (one workload-level PeerAuthentication per workload: the first by name wins, so echo-permissive goes first)
    await del('peerauthentication', 'echo-permissive');
    const west1a = await podAddress('west-1', 'echo-us-west-1a');
    await apply(peerAuthn('echo-west-1a', { selector: { matchLabels: { app: 'echo', 'topology.kubernetes.io/zone': 'us-west-1a' } }, mtls: { mode: 'DISABLE' } }));
    await timeUntil('DISABLE refuses mTLS', async () => {
      const r = await probe('echo', {}, 'west-1');
      assert.ok(r.ok, `west-1's sleep is served by another echo: ${JSON.stringify(r)}`);
      const text = await fetch(west1a.metrics).then((x) => x.text());
      return /meshfed_sidecar_inbound_refused_total\{reason="mtls_disabled"\} [1-9]/.test(text);
    });
    const plainWest = await plaintext(west1a.ip, west1a.inbound);
    assert.ok(plainWest !== 'refused' && plainWest.status === 200, `DISABLE serves plaintext: ${JSON.stringify(plainWest)}`);
    for (let i = 0; i < 5; i++) assert.notEqual((await probe('echo', {}, 'west-1')).reply?.pod, 'echo-us-west-1a');
    for (const pa of ['default', 'echo-west-1a']) await del('peerauthentication', pa);

    // ---- egress: ALLOW_ANY passes an external address through; REGISTRY_ONLY refuses it until a ServiceEntry
    const EXT = `http://127.0.9.9:${extPort}/out`;
    const passed = await call(EXT, '--from', 'east-1');
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, new RegExp(`east-1 → ${EXT}: HTTP 200 in [\\d.]+ ms\\nexternal saw 127\\.0\\.9\\.9:${extPort} /out`));
    await apply({ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'default', namespace: 'meshfed-system' }, spec: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } });
    await timeUntil('REGISTRY_ONLY refuses', async () => (await probe(EXT)).status === 502);
    const refused = await call(EXT, '--from', 'east-1');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /failed \(502: .*127\.0\.9\.9:\d+ is neither a mesh service nor a ServiceEntry, and outboundTrafficPolicy is REGISTRY_ONLY/);
    assert.equal((await call('echo', '--from', 'east-1')).code, 0, 'mesh services are in the registry');
    const se = (address: string, port: number) => ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'external-api', namespace: 'demo' }, spec: { hosts: ['api.external.example'], ports: [{ number: 80, name: 'http', protocol: 'HTTP', targetPort: port }], location: 'MESH_EXTERNAL', resolution: 'STATIC', endpoints: [{ address }] } });
    await apply(se('127.0.9.9', extPort));
    await timeUntil('ServiceEntry allows', async () => (await probe('http://api.external.example/v1')).ok);
    assert.match((await call('http://api.external.example/v1', '--from', 'west-1')).stdout, /HTTP 200 .*\nexternal saw api\.external\.example \/v1/);
    assert.equal((await probe(EXT)).status, 502, 'the bare address is still not in the registry');
    // the ServiceEntry's endpoints change (kubectl apply of the changed object): traffic follows
    await apply(se('127.0.9.10', movedPort));
    await timeUntil('ServiceEntry update followed', async () => /^moved saw/.test((await probe('http://api.external.example/v1')).body ?? ''));
    console.log(JSON.stringify({ figures }));
  } finally {
    ws.close();
    await up.stop();
    external.close();
    moved.close();
  }
});
