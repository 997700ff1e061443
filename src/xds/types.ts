// Envoy's xDS messages as TypeScript types, so the compiler checks field names and shapes where resources are built:
// the types proto-loader-gen-types generated from the same Envoy protos, shipped by @grpc/grpc-js-xds (with the options
// meshfed decodes with: keepCase, longs and enums as strings, defaults, oneofs). Types only: nothing here is loaded at
// run time. The input types (`Cluster`) accept what protobufjs' fromObject accepts; `…__Output` is what decoding yields.
export type { Cluster } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/cluster/v3/Cluster.js';
export type { ClusterLoadAssignment } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js';
export type { LocalityLbEndpoints } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/endpoint/v3/LocalityLbEndpoints.js';
export type { LbEndpoint } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/endpoint/v3/LbEndpoint.js';
export type { Listener } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/listener/v3/Listener.js';
export type { RouteConfiguration } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/route/v3/RouteConfiguration.js';
export type { Route } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/route/v3/Route.js';
export type { HttpConnectionManager } from '@grpc/grpc-js-xds/build/src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager.js';
export type { HTTPFault } from '@grpc/grpc-js-xds/build/src/generated/envoy/extensions/filters/http/fault/v3/HTTPFault.js';
export type { Struct } from '@grpc/grpc-js-xds/build/src/generated/google/protobuf/Struct.js';
export type { ConfigSource } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/core/v3/ConfigSource.js';
export type { Metadata } from '@grpc/grpc-js-xds/build/src/generated/envoy/config/core/v3/Metadata.js';
