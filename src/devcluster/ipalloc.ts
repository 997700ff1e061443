// ClusterIP allocation from a service CIDR; an address is never handed out twice while held.
export function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}
export const intToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

export class ClusterIpAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly held = new Set<number>();
  private next = 10; // like kube-apiserver, leave the first addresses (x.x.0.1 = kubernetes, .10 = dns) alone for dynamic allocation
  constructor(readonly cidr: string) {
    const [ip, bits] = cidr.split('/');
    const b = Number(bits);
    if (!Number.isInteger(b) || b < 8 || b > 30) throw new Error(`service CIDR ${cidr}: prefix must be /8../30`);
    this.size = 2 ** (32 - b);
    this.base = (ipToInt(ip) & ~(this.size - 1)) >>> 0;
    if (this.size < 32) this.next = 1;
  }
  allocate(): string {
    for (let i = 0; i < this.size - 2; i++) {
      const off = 1 + ((this.next - 1 + i) % (this.size - 2));
      if (!this.held.has(off)) { this.held.add(off); this.next = off + 1; return intToIp(this.base + off); }
    }
    throw new Error(`service CIDR ${this.cidr} is exhausted`);
  }
  /** Claim a specific address; returns an error message, or undefined on success. */
  claim(ip: string): string | undefined {
    let n: number;
    try { n = ipToInt(ip); } catch { return 'must be a valid IP address'; }
    const off = n - this.base;
    if (off <= 0 || off >= this.size - 1) return `provided IP is not in the valid range. The range of valid IPs is ${this.cidr}`;
    if (this.held.has(off)) return 'provided IP is already allocated';
    this.held.add(off);
    return undefined;
  }
  release(ip: string): void {
    try { this.held.delete(ipToInt(ip) - this.base); } catch { /* not ours */ }
  }
}
