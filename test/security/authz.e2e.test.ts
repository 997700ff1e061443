// End to end: AuthorizationPolicy and PeerAuthentication applied with kubectl (1.32 and Debian's 1.20) to an API
// stand-in, read by the control plane's SecurityWatcher, translated by the real pilot into each sidecar's inbound
// listener (Envoy RBAC over LDS) and enforced by real sidecars in front of echo apps, with certificates from the real
// mesh CA. What a caller gets changes: 403 "RBAC: access denied" vs 200, refused plaintext vs served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTopologyCluster } from '../../src/playground/clusters.ts';
import { writeKubeconfig } from '../../src/devcluster/kubeconfigFile.ts';
import { adminKubeConfig } from '../../src/devcluster/clientConfig.ts';
import { SecurityWatcher } from '../../src/security/watcher.ts';
import { compileSecurity } from '../../src/security/pilotResources.ts';
import { startMeshControl, scrape, metricSum, until, SVC_PORT, type MeshedEcho } from '../proxy/fixtures/mesh.ts';
import { kubectl, run } from '../helpers/kubectl.ts';
import { getThroughTunnel, requestVia as callVia, type Answer } from '../helpers/viaSidecar.ts';

const KUBECTL_132 = '/usr/bin/kubectl';

/** Plaintext HTTP straight to a workload's sidecar inbound (what a pod without a sidecar would send). */
function plaintext(to: MeshedEcho, headers: Record<string, string> = {}): Promise<Answer | 'refused'> {
  return new Promise((resolve) => {
    const req = http.request({ host: to.w.ip, port: to.sidecar.inbound, path: '/plain', headers, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', () => resolve('refused'));
    req.end();
  });
}

/** A CONNECT tunnel through a workload's outbound; resolves with what came back. */
const tunnel = (from: MeshedEcho, target: string): Promise<string> => getThroughTunnel(from, target, '/raw', 'echo');

const yaml = (o: unknown): string => JSON.stringify(o);
const authz = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace: 'demo' }, spec });
const peerAuthn = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace: 'demo' }, spec });

test('AuthorizationPolicy and PeerAuthentication applied with kubectl change what callers get, within bounded time', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'authz-e2e-'));
  const server = await startTopologyCluster({ name: 'c1', region: 'r1', zones: ['z1'], network: 'n1', podCIDR: '127.84.0.0/16', serviceCIDR: '10.84.0.0/16' });
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, [server]);
  const mc = await startMeshControl(['c1'], {});
  const watcher = new SecurityWatcher({ kubeConfig: adminKubeConfig(server), onSecurity: (set) => mc.pilot.setSecurity(compileSecurity(set)) });
  const apply = async (o: unknown, bin = KUBECTL_132): Promise<void> => {
    const r = bin === KUBECTL_132 ? await run(bin, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], yaml(o)) : await kubectl(kubeconfig, ['apply', '-f', '-'], yaml(o));
    assert.equal(r.code, 0, r.stderr);
  };
  const del = async (kind: string, name: string): Promise<void> => {
    const r = await run(KUBECTL_132, ['--kubeconfig', kubeconfig, '-n', 'demo', 'delete', kind, name]);
    assert.equal(r.code, 0, r.stderr);
  };
  /** ms until `f` holds (bounded at 15 s: a timeout fails the test) */
  const timeUntil = async (what: string, f: () => Promise<boolean>): Promise<number> => {
    const t0 = Date.now();
    await until(what, async () => ((await f()) ? true : undefined), 15_000);
    return Date.now() - t0;
  };
  const figures: Record<string, number> = {};
  try {
    await watcher.start();
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    const echo = await mc.startMeshedEcho({ name: 'echo-0', ip: '127.0.1.1', cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'echo', labels: { app: 'echo' } });
    const sleep = await mc.startMeshedEcho({ name: 'sleep-0', ip: '127.0.1.2', cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'sleep', labels: { app: 'sleep' } });
    const other = await mc.startMeshedEcho({ name: 'other-0', ip: '127.0.1.3', cluster: 'c1', network: 'n1', region: 'r1', serviceAccount: 'other', labels: { app: 'other' } });
    mc.publish();
    const URL_ECHO = `http://echo:${SVC_PORT}/hello`;
    await until('sleep → echo served', async () => ((await callVia(sleep, 'GET', URL_ECHO)).status === 200 ? true : undefined));
    assert.equal((await callVia(sleep, 'POST', URL_ECHO)).status, 200);

    // DENY sleep's POSTs to echo: POST answers 403 "RBAC: access denied", GET still works, other's POST still works
    await apply(authz('deny-sleep-post', { selector: { matchLabels: { app: 'echo' } }, action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/sleep'] } }], to: [{ operation: { methods: ['POST'] } }] }] }));
    figures.denyAppliedMs = await timeUntil('sleep POST denied', async () => (await callVia(sleep, 'POST', URL_ECHO)).status === 403);
    const denied = await callVia(sleep, 'POST', URL_ECHO);
    assert.deepEqual(denied, { status: 403, body: 'RBAC: access denied' });
    assert.equal((await callVia(sleep, 'GET', URL_ECHO)).status, 200);
    assert.equal((await callVia(other, 'POST', URL_ECHO)).status, 200);
    // a CONNECT tunnel from sleep is a TCP connection: the DENY rule minus its HTTP-only fields refuses it (as Istio)
    assert.doesNotMatch(await tunnel(sleep, `echo:${SVC_PORT}`), /HTTP\/1\.1 200 OK/);
    assert.match(await tunnel(other, `echo:${SVC_PORT}`), /HTTP\/1\.1 200 OK/);
    const em = await scrape(echo.w.ip, echo.sidecar.metrics);
    assert.ok(metricSum(em, 'meshfed_sidecar_authz_requests_total', /decision="denied",policy="demo\/deny-sleep-post",source_principal="cluster.local\/ns\/demo\/sa\/sleep",protocol="http"/) >= 2, em);
    assert.ok(metricSum(em, 'meshfed_sidecar_authz_requests_total', /decision="denied",policy="demo\/deny-sleep-post",source_principal="cluster.local\/ns\/demo\/sa\/sleep",protocol="tcp"/) >= 1, em);

    // replace it (kubectl 1.20) with an ALLOW for another principal only: sleep is denied everything, other is served
    await del('authorizationpolicy', 'deny-sleep-post');
    await apply(authz('allow-other', { selector: { matchLabels: { app: 'echo' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/demo/sa/other'] } }] }] }), 'debian');
    await timeUntil('only other allowed', async () => (await callVia(sleep, 'GET', URL_ECHO)).status === 403);
    assert.equal((await callVia(other, 'GET', URL_ECHO)).status, 200);
    assert.equal((await callVia(other, 'POST', URL_ECHO)).status, 200);

    // a bad update is reported in the object's status naming the field, and the previous version stays enforced
    await apply(authz('allow-other', { selector: { matchLabels: { app: 'echo' } }, rules: [{ from: [{ source: { principals: ['cluster.local/*/sa/other'] } }], to: [{ operation: { ports: ['http'] } }] }] }));
    let status = '';
    await until('status names the bad fields', async () => {
      const r = await run(KUBECTL_132, ['--kubeconfig', kubeconfig, '-n', 'demo', 'get', 'authorizationpolicy', 'allow-other', '-o', 'jsonpath={.status.conditions[0].reason}: {.status.conditions[0].message}']);
      status = r.stdout;
      return /^Invalid/.test(status) ? true : undefined;
    });
    assert.match(status, /spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\]: "cluster\.local\/\*\/sa\/other" may use "\*" only/);
    assert.match(status, /spec\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: "http" is not a port number/);
    assert.equal((await callVia(sleep, 'GET', URL_ECHO)).status, 403, 'the last good policy is still enforced');
    assert.equal((await callVia(other, 'GET', URL_ECHO)).status, 200);

    // removing the policy restores access
    await del('authorizationpolicy', 'allow-other');
    figures.removeRestoresMs = await timeUntil('access restored', async () => (await callVia(sleep, 'GET', URL_ECHO)).status === 200);

    // PeerAuthentication: with none (Istio's default PERMISSIVE) plaintext is served — and a forged XFCC from a
    // plaintext caller never reaches the app as an identity
    const plain = await plaintext(echo, { 'x-forwarded-client-cert': 'By=x;URI=spiffe://cluster.local/ns/demo/sa/admin' });
    assert.ok(plain !== 'refused' && plain.status === 200, JSON.stringify(plain));
    assert.equal((JSON.parse((plain as Answer).body) as { caller?: string }).caller, undefined, 'no identity from a header');
    // an ALLOW on principals does not let plaintext in (it has no principal)
    await apply(authz('allow-mesh', { selector: { matchLabels: { app: 'echo' } }, rules: [{ from: [{ source: { principals: ['*'] } }] }] }));
    await timeUntil('plaintext denied by principals rule', async () => { const r = await plaintext(echo); return r !== 'refused' && r.status === 403; });
    assert.equal((await callVia(sleep, 'GET', URL_ECHO)).status, 200);
    await del('authorizationpolicy', 'allow-mesh');

    // STRICT for the namespace: plaintext refused, mTLS served; a workload-level PERMISSIVE overrides it for echo
    await apply(peerAuthn('default', { mtls: { mode: 'STRICT' } }));
    figures.strictAppliedMs = await timeUntil('STRICT refuses plaintext', async () => (await plaintext(echo)) === 'refused');
    assert.equal((await callVia(sleep, 'GET', URL_ECHO)).status, 200);
    assert.ok(metricSum(await scrape(echo.w.ip, echo.sidecar.metrics), 'meshfed_sidecar_inbound_refused_total', /reason="plaintext"/) >= 1);
    await apply(peerAuthn('echo-permissive', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'PERMISSIVE' } }));
    await timeUntil('PERMISSIVE serves plaintext', async () => { const r = await plaintext(echo); return r !== 'refused' && r.status === 200; });
    assert.equal(await plaintext(sleep), 'refused', 'sleep is still STRICT (namespace-wide)');
    // portLevelMtls: STRICT on echo's app port (the port the workload listens on) refuses plaintext again
    await apply(peerAuthn('echo-permissive', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { [String(echo.appPort)]: { mode: 'STRICT' } } }));
    await timeUntil('port-level STRICT refuses plaintext', async () => (await plaintext(echo)) === 'refused');
    assert.equal((await callVia(sleep, 'GET', URL_ECHO)).status, 200);
    // a bad mode is rejected with the field named; the last good (port-level STRICT) stays
    await apply(peerAuthn('echo-permissive', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'LOOSE' } }));
    await until('PeerAuthentication status names the field', async () => {
      const r = await run(KUBECTL_132, ['--kubeconfig', kubeconfig, '-n', 'demo', 'get', 'peerauthentication', 'echo-permissive', '-o', 'jsonpath={.status.conditions[0].message}']);
      return /spec\.mtls\.mode: "LOOSE" must be one of/.test(r.stdout) ? true : undefined;
    });
    assert.equal(await plaintext(echo), 'refused');
    console.log(JSON.stringify({ figures }));
  } finally {
    await watcher.stop();
    await mc.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
