// Throwaway self-signed certificate for tests (openssl), written to a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function selfSigned(cn = 'test.local'): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', `/CN=${cn}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MeshCa { root: string; leaf(spiffe: string): { key: string; cert: string } }

/** A throwaway mesh CA (openssl) issuing P-256 leaves with a SPIFFE URI SAN. */
export function meshCa(name = 'test-mesh-root'): MeshCa {
  const dir = mkdtempSync(join(tmpdir(), 'meshfed-ca-'));
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/O=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'ca.key', '-out', 'ca.pem']);
  const root = readFileSync(join(dir, 'ca.pem'), 'utf8');
  let n = 0;
  return {
    root,
    leaf(spiffe: string) {
      const i = ++n;
      ossl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/O=meshfed', '-keyout', `l${i}.key`, '-out', `l${i}.csr`]);
      writeFileSync(join(dir, `l${i}.ext`), `subjectAltName=URI:${spiffe}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=critical,CA:FALSE\n`);
      ossl(['x509', '-req', '-in', `l${i}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `l${i}.ext`, '-out', `l${i}.pem`]);
      return { key: readFileSync(join(dir, `l${i}.key`), 'utf8'), cert: readFileSync(join(dir, `l${i}.pem`), 'utf8') };
    },
  };
}
