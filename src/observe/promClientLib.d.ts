// Types for the prom-client modules the proxies import one by one (the package's index also loads its cluster
// aggregator, default metrics and push gateway: ~2 MB more RSS in a sidecar). Each module exports one class.
declare module 'prom-client/lib/registry.js' { import { Registry } from 'prom-client'; export default Registry; }
declare module 'prom-client/lib/counter.js' { import { Counter } from 'prom-client'; export default Counter; }
declare module 'prom-client/lib/gauge.js' { import { Gauge } from 'prom-client'; export default Gauge; }
declare module 'prom-client/lib/histogram.js' { import { Histogram } from 'prom-client'; export default Histogram; }
declare module 'prom-client/lib/cluster.js' { import { AggregatorRegistry } from 'prom-client'; export default AggregatorRegistry; }
