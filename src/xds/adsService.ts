// envoy.service.discovery.v3.AggregatedDiscoveryService for grpc-js (pilot's server, test clients). The proxies
// speak it through src/grpc/client.ts and never load grpc-js.
import * as grpc from '@grpc/grpc-js';
import { ADS_PATH, messageCodec } from './protos.ts';

/**
 * ADS ready for server.addService / new Client(). Built from the two message types it carries (proto-loader would
 * build a package definition of every type in the descriptor).
 */
export function adsService(): grpc.ServiceClientConstructor {
  const rq = messageCodec('envoy.service.discovery.v3.DiscoveryRequest');
  const rs = messageCodec('envoy.service.discovery.v3.DiscoveryResponse');
  const method: grpc.MethodDefinition<object, object> = {
    path: ADS_PATH,
    requestStream: true, responseStream: true,
    requestSerialize: (v) => Buffer.from(rq.encode(v)), requestDeserialize: rq.decode,
    responseSerialize: (v) => Buffer.from(rs.encode(v)), responseDeserialize: rs.decode,
    originalName: 'streamAggregatedResources',
  };
  return grpc.makeGenericClientConstructor({ StreamAggregatedResources: method }, 'AggregatedDiscoveryService');
}
