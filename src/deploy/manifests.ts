// Manifests for running meshfed in real clusters (pure: options in, Kubernetes objects out).
// `meshfed install` applies them; deploy/*.yaml holds the same objects rendered with the defaults.

import { SECURITY_CRDS } from '../security/crds.ts';
import { CONTROL_PLANE_NODE_FLAGS, GATEWAY_NODE_FLAGS, PROXY_NODE_FLAGS } from './nodeFlags.ts';

export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };

export const SYSTEM_NAMESPACE = 'meshfed-system';
export const DEFAULT_IMAGE = 'meshfed:dev';
/** idle RSS is ~60-65 MB and ~70 MB after load (bench/footprint); the limit leaves room above the 128 MB heap cap */
const PROXY_RESOURCES = { requests: { cpu: '10m', memory: '80Mi' }, limits: { memory: '256Mi' } };

const managed = { 'app.kubernetes.io/part-of': 'meshfed' };

export interface ControlPlaneOptions {
  image?: string;
  trustDomain?: string;
  federateAll?: boolean;
  /** replicas of the control plane (default 2: one leader writes, every replica serves xDS and the CA) */
  replicas?: number;
  /**
   * Also publish plaintext xDS (15010) on the nodes (nodePort 31010), for remote clusters' proxies on a trusted
   * network (kind's docker network): plaintext xDS has no authentication. Default: 15010 stays cluster-internal.
   */
  exposePlaintextXds?: boolean;
}

export const DEFAULT_CONTROL_PLANE_REPLICAS = 2;

/**
 * The control plane: federation + CA + pilot + admin in one Deployment of several replicas (one elected leader
 * writes to clusters through a Lease; every replica serves xDS and signs), a PodDisruptionBudget keeping one
 * replica up through node drains, replicas spread over zones, and the RBAC it needs in its own cluster.
 */
export function controlPlaneManifests(o: ControlPlaneOptions = {}): K8sObject[] {
  const image = o.image ?? DEFAULT_IMAGE;
  const replicas = o.replicas ?? DEFAULT_CONTROL_PLANE_REPLICAS;
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`control plane replicas must be a whole number of at least 1, got ${replicas}`);
  const labels = { app: 'meshfed-control-plane', ...managed };
  const selector = { matchLabels: { app: 'meshfed-control-plane' } };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE, labels: managed } },
    // Istio's security kinds (AuthorizationPolicy, PeerAuthentication): meshfed enforces them at the sidecars
    ...SECURITY_CRDS.map((c) => ({ ...c, metadata: { ...c.metadata, labels: managed } }) as unknown as K8sObject),
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'meshfed-control-plane', namespace: SYSTEM_NAMESPACE, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'meshfed-control-plane', labels },
      rules: [
        { apiGroups: [''], resources: ['namespaces', 'services', 'pods', 'nodes', 'configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['networking.istio.io'], resources: ['virtualservices', 'destinationrules'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.istio.io'], resources: ['virtualservices/status', 'destinationrules/status'], verbs: ['get', 'update', 'patch'] },
        { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies', 'peerauthentications'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['security.istio.io'], resources: ['authorizationpolicies/status', 'peerauthentications/status'], verbs: ['get', 'update', 'patch'] },
        { apiGroups: ['networking.istio.io'], resources: ['serviceentries', 'sidecars'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['networking.istio.io'], resources: ['serviceentries/status', 'sidecars/status'], verbs: ['get', 'update', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'meshfed-control-plane', labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'meshfed-control-plane' },
      subjects: [{ kind: 'ServiceAccount', name: 'meshfed-control-plane', namespace: SYSTEM_NAMESPACE }],
    },
    {
      // the registration Secrets and the cacerts Secret live in meshfed-system only
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'meshfed-control-plane', namespace: SYSTEM_NAMESPACE, labels },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
        // without a cacerts Secret the replicas share one development CA in Secret meshfed-dev-ca (first one creates it)
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], resourceNames: ['meshfed-dev-ca'], verbs: ['update'] },
        // leader election: one Lease, meshfed-control-plane
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'meshfed-control-plane', namespace: SYSTEM_NAMESPACE, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'meshfed-control-plane' },
      subjects: [{ kind: 'ServiceAccount', name: 'meshfed-control-plane', namespace: SYSTEM_NAMESPACE }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'meshfed-control-plane', namespace: SYSTEM_NAMESPACE, labels },
      spec: {
        replicas,
        selector,
        // a rollout starts a new replica and waits for it to be ready before stopping an old one
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'meshfed-control-plane',
            // replicas in different zones (and nodes) where the cluster has them; one zone still schedules them all
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { labelSelector: selector, topologyKey: 'topology.kubernetes.io/zone' } },
                  { weight: 50, podAffinityTerm: { labelSelector: selector, topologyKey: 'kubernetes.io/hostname' } },
                ],
              },
            },
            // a stopping replica releases the lease at once (another takes over within a retry period)
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'control-plane',
                image,
                command: ['node', ...CONTROL_PLANE_NODE_FLAGS, '/opt/meshfed/bin/meshfed.js'],
                // the admin server on the pod IP, for kubelet probes and scrapes; the Service keeps it cluster-internal
                args: ['control-plane', '--admin-address', '0.0.0.0', '--trust-domain', o.trustDomain ?? 'cluster.local', ...(o.federateAll ? ['--federate-all'] : [])],
                // the replica's name in the leader Lease
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                ports: [
                  { name: 'grpc-xds', containerPort: 15010 },
                  { name: 'https-xds-ca', containerPort: 15012 },
                  { name: 'http-admin', containerPort: 15014 },
                ],
                // ready = every member cluster synced, the snapshot served reflects them, xDS and CA listening
                // (leader or not: every replica serves proxies)
                readinessProbe: { httpGet: { path: '/readyz', port: 15014 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: '/healthz', port: 15014 }, periodSeconds: 10 },
                volumeMounts: [{ name: 'cacerts', mountPath: '/etc/cacerts', readOnly: true }],
              },
            ],
            volumes: [{ name: 'cacerts', secret: { secretName: 'cacerts', optional: true } }],
          },
        },
      },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'meshfed-control-plane', namespace: SYSTEM_NAMESPACE, labels },
      // a drain or an upgrade never takes the last ready replica (with one replica, nothing blocks a drain)
      spec: replicas > 1 ? { minAvailable: 1, selector } : { maxUnavailable: 1, selector },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'meshfed', namespace: SYSTEM_NAMESPACE, labels },
      spec: {
        // cluster-internal: plaintext xDS and the admin server have no authentication (as istiod's 15010, 15014)
        type: 'ClusterIP',
        selector: { app: 'meshfed-control-plane' },
        ports: [
          { name: 'grpc-xds', port: 15010, targetPort: 15010 },
          { name: 'https-xds-ca', port: 15012, targetPort: 15012 },
          { name: 'http-admin', port: 15014, targetPort: 15014 },
        ],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'meshfed-remote', namespace: SYSTEM_NAMESPACE, labels },
      spec: {
        // what remote clusters reach through a node address: the CA and mTLS xDS (TLS; tokens and certificates
        // checked), and plaintext xDS only when asked for (trusted networks only)
        type: 'NodePort',
        selector: { app: 'meshfed-control-plane' },
        ports: [
          ...(o.exposePlaintextXds ? [{ name: 'grpc-xds', port: 15010, targetPort: 15010, nodePort: 31010 }] : []),
          { name: 'https-xds-ca', port: 15012, targetPort: 15012, nodePort: 31012 },
        ],
      },
    },
  ];
}

export interface GatewayOptions {
  network: string;
  region: string;
  image?: string;
  /** address of the control plane's xDS for this cluster (a remote cluster reaches it through its Service or an exposed address) */
  xds?: string;
}

/** One east-west gateway: Deployment + LoadBalancer Service on 15443 labelled with its network. */
export function gatewayManifests(o: GatewayOptions): K8sObject[] {
  const labels = { app: 'meshfed-eastwestgateway', 'topology.istio.io/network': o.network, ...managed };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE, labels: managed } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'meshfed-eastwestgateway', namespace: SYSTEM_NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'meshfed-eastwestgateway' } },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'gateway',
                image: o.image ?? DEFAULT_IMAGE,
                command: ['node', ...GATEWAY_NODE_FLAGS, '/opt/meshfed/bin/meshfed.js'],
                resources: PROXY_RESOURCES,
                args: ['gateway', '--xds', o.xds ?? `meshfed.${SYSTEM_NAMESPACE}.svc:15010`, '--network', o.network, '--region', o.region, '--listen', '0.0.0.0:15443'],
                ports: [
                  { name: 'tls', containerPort: 15443 },
                  { name: 'http-health', containerPort: 15021 },
                  { name: 'http-metrics', containerPort: 15090 },
                ],
                readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 }, periodSeconds: 2 },
              },
            ],
            terminationGracePeriodSeconds: 30,
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'meshfed-eastwestgateway',
        namespace: SYSTEM_NAMESPACE,
        labels: { ...labels, 'meshfed.io/gateway': 'eastwest' },
      },
      spec: {
        type: 'LoadBalancer',
        selector: { app: 'meshfed-eastwestgateway' },
        ports: [
          { name: 'tls', port: 15443, targetPort: 15443 },
          { name: 'status-port', port: 15021, targetPort: 15021 },
        ],
      },
    },
  ];
}

export interface DemoOptions {
  cluster: string;
  namespace?: string;
  image?: string;
  xds?: string;
  ca?: string;
}

/** The demo: an echo Deployment whose pods carry the meshfed sidecar, its Service, in a federated namespace. */
export function demoManifests(o: DemoOptions): K8sObject[] {
  const ns = o.namespace ?? 'demo';
  const image = o.image ?? DEFAULT_IMAGE;
  const xds = o.xds ?? `meshfed.${SYSTEM_NAMESPACE}.svc:15010`;
  const ca = o.ca ?? `meshfed.${SYSTEM_NAMESPACE}.svc:15012`;
  const labels = { app: 'echo', 'security.istio.io/tlsMode': 'istio' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'meshfed.io/federation': 'enabled' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'echo', namespace: ns } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'echo', namespace: ns, labels: { app: 'echo' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'echo' } },
        template: {
          metadata: { labels, annotations: { 'meshfed.io/inbound-port': '15006' } },
          spec: {
            serviceAccountName: 'echo',
            containers: [
              {
                name: 'echo',
                image,
                args: ['demo', 'echo', '--listen', '127.0.0.1:8080', '--cluster', o.cluster],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
              },
              {
                name: 'meshfed-sidecar',
                image,
                command: ['node', ...PROXY_NODE_FLAGS, '/opt/meshfed/bin/meshfed.js'],
                resources: PROXY_RESOURCES,
                args: [
                  'sidecar', '--xds', xds, '--ca', ca, '--ca-cert', '/var/run/meshfed/root-cert.pem',
                  '--token-file', '/var/run/secrets/tokens/meshfed-token', '--cluster', o.cluster, '--app-port', '8080',
                  '--inbound', '0.0.0.0:15006', '--outbound', '127.0.0.1:15001',
                ],
                // the pod's address, to find its own endpoints in EDS (the app port of each service port)
                env: [{ name: 'INSTANCE_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
                ports: [{ name: 'mtls-inbound', containerPort: 15006 }, { name: 'http-metrics', containerPort: 15090 }],
                volumeMounts: [
                  { name: 'meshfed-token', mountPath: '/var/run/secrets/tokens' },
                  { name: 'meshfed-root-cert', mountPath: '/var/run/meshfed' },
                ],
              },
            ],
            volumes: [
              { name: 'meshfed-token', projected: { sources: [{ serviceAccountToken: { path: 'meshfed-token', expirationSeconds: 3600, audience: 'meshfed' } }] } },
              { name: 'meshfed-root-cert', configMap: { name: 'meshfed-root-cert' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace: ns, labels: { app: 'echo' } },
      spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
    },
  ];
}
