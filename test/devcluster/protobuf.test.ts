// Protobuf request bodies: the bytes kubectl 1.32 really sent (fixtures/kubectl-1.32-bodies.jsonl, recorded with
// fixtures/capture.ts) decode to the JSON the Go apiserver would store, and a body the stand-in cannot store
// faithfully is refused with a Status naming what is wrong, with nothing stored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeProtobufBody, goDuration, protoRoot, PROTOBUF_MIME } from '../../src/devcluster/proto/decode.ts';
import { harness, type Harness } from './harness.ts';

interface Captured { method: string; url: string; contentType: string; body: string }
const captured: Captured[] = readFileSync(new URL('./fixtures/kubectl-1.32-bodies.jsonl', import.meta.url), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const sent = (pathPrefix: string): Buffer => {
  const c = captured.find((x) => x.contentType === PROTOBUF_MIME && x.url.split('?')[0] === pathPrefix);
  if (!c) throw new Error(`no captured protobuf body for ${pathPrefix}`);
  return Buffer.from(c.body, 'base64');
};

test('every protobuf body kubectl 1.32 sent decodes', () => {
  const pb = captured.filter((c) => c.contentType === PROTOBUF_MIME);
  assert.ok(pb.length >= 12, `fixture has ${pb.length} protobuf bodies`);
  for (const c of pb) assert.doesNotThrow(() => decodeProtobufBody(Buffer.from(c.body, 'base64')), c.url);
});

test('kubectl create bodies decode to the JSON kubectl --dry-run=client -o json prints', () => {
  assert.deepEqual(decodeProtobufBody(sent('/api/v1/namespaces')), { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'demo', creationTimestamp: null }, spec: {}, status: {} });
  // bytes (binaryData, Secret data) come out base64, as encoding/json writes []byte
  assert.deepEqual(decodeProtobufBody(sent('/api/v1/namespaces/demo/configmaps')),
    { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm1', namespace: 'demo', creationTimestamp: null }, data: { a: '1' }, binaryData: { blob: Buffer.from('bin\0\xff\x01', 'latin1').toString('base64') } });
  assert.deepEqual(decodeProtobufBody(sent('/api/v1/namespaces/demo/secrets')),
    { kind: 'Secret', apiVersion: 'v1', metadata: { name: 's1', namespace: 'demo', creationTimestamp: null }, data: { pw: Buffer.from('hunter2').toString('base64') } });
  // pointer field replicas kept; non-pointer structs (resources, strategy, status) written as {} as Go does
  assert.deepEqual(decodeProtobufBody(sent('/apis/apps/v1/namespaces/demo/deployments')), {
    kind: 'Deployment', apiVersion: 'apps/v1', metadata: { name: 'web', namespace: 'demo', creationTimestamp: null, labels: { app: 'web' } },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: {} }] } },
      strategy: {},
    },
    status: {},
  });
  // IntOrString targetPort as a number
  assert.deepEqual(decodeProtobufBody(sent('/api/v1/namespaces/demo/services')), {
    kind: 'Service', apiVersion: 'v1', metadata: { name: 'svc1', namespace: 'demo', creationTimestamp: null, labels: { app: 'svc1' } },
    spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'svc1' }, type: 'ClusterIP' },
    status: { loadBalancer: {} },
  });
  // pointer expirationSeconds (int64) kept
  const tr = decodeProtobufBody(sent('/api/v1/namespaces/demo/serviceaccounts/sa1/token'));
  assert.deepEqual(tr.spec, { audiences: ['foo'], expirationSeconds: 7200 });
  assert.deepEqual(decodeProtobufBody(sent('/apis/rbac.authorization.k8s.io/v1/namespaces/demo/rolebindings')), {
    kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'rb1', namespace: 'demo', creationTimestamp: null },
    subjects: [{ kind: 'ServiceAccount', name: 'sa1', namespace: 'demo' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r1' },
  });
  const ssar = decodeProtobufBody(sent('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'));
  assert.deepEqual(ssar.spec, { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } });
});

/** A body as a typed client encodes it, built with the same message table. */
function encode(apiVersion: string, kind: string, obj: Record<string, unknown>, extra: Buffer = Buffer.alloc(0)): Buffer {
  const T = protoRoot.lookupType(kind === 'DeleteOptions' ? 'meta.DeleteOptions' : kind === 'Eviction' ? 'policy.Eviction' : `core.${kind}`);
  const raw = Buffer.concat([Buffer.from(T.encode(T.fromObject(obj)).finish()), extra]);
  const U = protoRoot.lookupType('k8s.Unknown');
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(U.encode(U.fromObject({ typeMeta: { apiVersion, kind }, raw })).finish())]);
}

test('special types: Time, IntOrString as string, Quantity, pointer zero kept, zero scalars omitted', () => {
  const pod = decodeProtobufBody(encode('v1', 'Pod', {
    metadata: { name: 'p', deletionTimestamp: { seconds: 1767225600 }, generation: 0 },
    spec: {
      terminationGracePeriodSeconds: 0, hostNetwork: false,
      containers: [{ name: 'c', ports: [{ containerPort: 80 }], resources: { limits: { cpu: { string: '500m' } } }, readinessProbe: { inline1: { httpGet: { port: { type: 1, strVal: 'http' } } } } }],
    },
  }));
  assert.deepEqual(pod.metadata, { name: 'p', creationTimestamp: null, deletionTimestamp: '2026-01-01T00:00:00Z' });
  const spec = pod.spec as Record<string, unknown>;
  assert.equal(spec.terminationGracePeriodSeconds, 0); // *int64: sent, so kept even when zero
  assert.equal('hostNetwork' in spec, false); // bool zero: omitted
  const c = (spec.containers as Array<Record<string, any>>)[0];
  assert.deepEqual(c.resources, { limits: { cpu: '500m' } });
  assert.deepEqual(c.readinessProbe.httpGet, { port: 'http' }); // inlined ProbeHandler, IntOrString as string
  assert.equal(goDuration(3_600_000_000_000), '1h0m0s');
  assert.equal(goDuration(1_500_000_000), '1.5s');
});

let h: Harness;
before(async () => { h = await harness(); });
after(async () => { await h.server.close(); });

const post = (path: string, body: Buffer) => h.raw('POST', path, body, { 'content-type': PROTOBUF_MIME });

test('kubectl 1.32 create bodies are stored over HTTP', async () => {
  for (const c of captured.filter((x) => x.method === 'POST' && x.contentType === PROTOBUF_MIME && /\/(namespaces|configmaps|secrets)\?/.test(x.url))) {
    const r = await h.raw('POST', c.url, Buffer.from(c.body, 'base64'), { 'content-type': c.contentType });
    assert.equal(r.status, 201, r.text);
  }
  const cm = await h.raw('GET', '/api/v1/namespaces/demo/configmaps/cm1');
  assert.deepEqual(cm.json.binaryData, { blob: Buffer.from('bin\0\xff\x01', 'latin1').toString('base64') });
});

test('an unmodelled protobuf field is a 415 naming it, and nothing is stored', async () => {
  // field 99 (varint 1) at the top of a ConfigMap, then inside its metadata
  const top = encode('v1', 'ConfigMap', { metadata: { name: 'extra-top' }, data: { a: '1' } }, Buffer.from([0x98, 0x06, 0x01]));
  const r = await post('/api/v1/namespaces/default/configmaps', top);
  assert.equal(r.status, 415, r.text);
  assert.equal(r.json.reason, 'UnsupportedMediaType');
  assert.match(r.json.message, /ConfigMap: field number 99 \(wire type 0\) of core\.ConfigMap is not modelled/);
  const OM = protoRoot.lookupType('meta.ObjectMeta');
  const meta = Buffer.concat([Buffer.from(OM.encode(OM.fromObject({ name: 'extra-meta' })).finish()), Buffer.from([0x98, 0x06, 0x01])]);
  const nested = Buffer.concat([Buffer.from([0x0a, meta.length]), meta]); // ConfigMap field 1 = metadata
  const U = protoRoot.lookupType('k8s.Unknown');
  const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(U.encode(U.fromObject({ typeMeta: { apiVersion: 'v1', kind: 'ConfigMap' }, raw: nested })).finish())]);
  const r2 = await post('/api/v1/namespaces/default/configmaps', body);
  assert.equal(r2.status, 415, r2.text);
  assert.match(r2.json.message, /ConfigMap\.metadata: field number 99 .* of meta\.ObjectMeta/);
  const list = await h.raw('GET', '/api/v1/namespaces/default/configmaps');
  assert.deepEqual(list.json.items.map((i: any) => i.metadata.name).filter((n: string) => n.startsWith('extra')), []);
});

test('garbage, a kind without a definition, a JSON body labelled protobuf: clear 4xx, nothing stored', async () => {
  const before = (await h.raw('GET', '/api/v1/namespaces/default/configmaps')).json.items.length;
  const trunc = encode('v1', 'ConfigMap', { metadata: { name: 'cut' }, data: { a: 'xxxxxxxx' } });
  const r1 = await post('/api/v1/namespaces/default/configmaps', trunc.subarray(0, trunc.length - 4));
  assert.equal(r1.status, 400, r1.text);
  assert.match(r1.json.message, /not a valid application\/vnd\.kubernetes\.protobuf object: .*truncated/);
  const r2 = await post('/api/v1/namespaces/default/configmaps', Buffer.from('{"kind":"ConfigMap"}'));
  assert.equal(r2.status, 400);
  assert.match(r2.json.message, /does not start with the "k8s\\x00" magic/);
  const U = protoRoot.lookupType('k8s.Unknown');
  const job = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(U.encode(U.fromObject({ typeMeta: { apiVersion: 'batch/v1', kind: 'Job' }, raw: Buffer.from([0x0a, 0x00]) })).finish())]);
  const r3 = await post('/api/v1/namespaces/default/configmaps', job);
  assert.equal(r3.status, 415);
  assert.match(r3.json.message, /no protobuf definition for kind "Job" of apiVersion "batch\/v1"; send it as application\/json/);
  // protobuf sent as JSON: the error says what it looks like
  const r4 = await h.raw('POST', '/api/v1/namespaces/default/configmaps', trunc, { 'content-type': 'application/json' });
  assert.equal(r4.status, 400);
  assert.match(r4.json.message, /looks like application\/vnd\.kubernetes\.protobuf/);
  assert.equal((await h.raw('GET', '/api/v1/namespaces/default/configmaps')).json.items.length, before);
});

test('DeleteOptions and Eviction in protobuf: preconditions are honoured', async () => {
  const c = await h.raw('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'del' } });
  assert.equal(c.status, 201);
  const wrong = await h.raw('DELETE', '/api/v1/namespaces/default/configmaps/del', encode('v1', 'DeleteOptions', { preconditions: { uid: 'not-it' } }), { 'content-type': PROTOBUF_MIME });
  assert.equal(wrong.status, 409, wrong.text);
  const ok = await h.raw('DELETE', '/api/v1/namespaces/default/configmaps/del', encode('v1', 'DeleteOptions', { gracePeriodSeconds: 0, preconditions: { uid: c.json.metadata.uid } }), { 'content-type': PROTOBUF_MIME });
  assert.equal(ok.status, 200, ok.text);
  const p = await h.raw('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ev' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  assert.equal(p.status, 201, p.text);
  const ev = await post('/api/v1/namespaces/default/pods/ev/eviction', encode('policy/v1', 'Eviction', { metadata: { name: 'ev', namespace: 'default' }, deleteOptions: { preconditions: { uid: p.json.metadata.uid } } }));
  assert.equal(ev.status, 201, ev.text);
  assert.equal((await h.raw('GET', '/api/v1/namespaces/default/pods/ev')).status, 404);
});
