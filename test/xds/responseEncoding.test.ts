import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeResponseBody, withNonce } from '../../src/xds/responseEncoding.ts';
import { messageType, packAny, TYPE_URL } from '../../src/xds/protos.ts';

test('a shared response body plus a per-stream nonce decodes as the whole DiscoveryResponse', () => {
  const any = packAny(TYPE_URL.cluster, { name: 'outbound|80||a.b.svc.cluster.local', type: 'EDS' });
  const body = encodeResponseBody({ version_info: 'v7', resources: [any, any], type_url: TYPE_URL.cluster });
  const T = messageType('envoy.service.discovery.v3.DiscoveryResponse');
  for (const nonce of ['1', '42', 'x'.repeat(300)]) {
    const m = T.toObject(T.decode(withNonce(body, nonce))) as { version_info: string; nonce: string; type_url: string; resources: { value: Uint8Array }[] };
    assert.equal(m.nonce, nonce);
    assert.equal(m.version_info, 'v7');
    assert.equal(m.type_url, TYPE_URL.cluster);
    assert.equal(m.resources.length, 2);
    assert.deepEqual(Buffer.from(m.resources[1]!.value), any.value);
  }
});
