// `meshfed` commands of this area. Each command is thin: flags in, a call into src/<module>, exit code out.
import { readFileSync } from 'node:fs';
import { bool, requireStr, str, UsageError, UserError, type Command } from '../command.ts';
import type { KeyType } from '../../ca/x509.ts';
import { OUTPUT_FLAG, outputFormat, printOutput } from '../output.ts';

function keyType(v: string | undefined): KeyType {
  if (v === undefined || v === 'ec-p256' || v === 'rsa-2048') return v ?? 'ec-p256';
  throw new UsageError(`--key-type must be ec-p256 or rsa-2048, got ${JSON.stringify(v)}`);
}

/** CA file problems (CaFileError) become one UserError line; the CA modules load with the command that uses them. */
async function userErrors<T>(f: () => T): Promise<T> {
  const { CaFileError } = await import('../../ca/files.ts');
  try {
    return f();
  } catch (e) {
    if (e instanceof CaFileError) throw new UserError(e.message);
    throw e;
  }
}

export const caCommands: Command[] = [
  {
    path: ['ca', 'init'],
    summary: 'create an offline root and per-cluster intermediates (Istio plug-in CA layout)',
    flags: {
      out: { type: 'string', help: 'DIR  where to write root-cert.pem, root-key.pem and DIR/<cluster>/' },
      'trust-domain': { type: 'string', default: 'cluster.local', help: 'DOMAIN  SPIFFE trust domain' },
      org: { type: 'string', default: 'meshfed', help: 'NAME  organization in the CA subjects' },
      clusters: { type: 'string', help: 'a,b,c  member clusters to make intermediates for' },
      'key-type': { type: 'string', default: 'ec-p256', help: 'ec-p256|rsa-2048' },
      force: { type: 'boolean', help: 'overwrite existing keys' },
    },
    async run(args, io) {
      const clusters = (str(args, 'clusters') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const { initCa } = await import('../../ca/files.ts');
      const files = await userErrors(() => initCa({ out: requireStr(args, 'out'), trustDomain: str(args, 'trust-domain'), org: str(args, 'org'), clusters, keyType: keyType(str(args, 'key-type')), force: bool(args, 'force') }));
      for (const f of files) io.out(f);
      io.out('keep root-key.pem offline; plug DIR/<cluster>/ into each cluster as Secret meshfed-system/cacerts');
      return 0;
    },
  },
  {
    path: ['ca', 'inspect'],
    summary: 'print subject, SANs, validity, chain order and SPIFFE ID of a certificate or chain',
    usage: 'FILE',
    positionals: true,
    flags: { output: OUTPUT_FLAG },
    async run(args, io) {
      const file = args.positionals[0];
      if (!file) throw new UsageError('ca inspect: missing FILE');
      const format = outputFormat(args);
      let pem: string;
      try { pem = readFileSync(file, 'utf8'); } catch (e) { throw new UserError(`cannot read ${file}: ${(e as Error).message}`); }
      const { formatSummary, summarize } = await import('../../ca/inspect.ts');
      let certs: ReturnType<typeof summarize>;
      try { certs = summarize(pem); } catch (e) { throw new UserError(`${file}: ${(e as Error).message}`); }
      await printOutput(format, certs, () => formatSummary(certs).join('\n'), io.out);
      return 0;
    },
  },
  {
    path: ['ca', 'rotate-root'],
    summary: 'create a new root and intermediates; the trust bundle carries old and new roots during the overlap',
    flags: {
      dir: { type: 'string', help: 'DIR  a directory made by `meshfed ca init`' },
      'trust-domain': { type: 'string', default: 'cluster.local', help: 'DOMAIN  SPIFFE trust domain' },
      org: { type: 'string', default: 'meshfed', help: 'NAME  organization in the CA subjects' },
      'key-type': { type: 'string', default: 'ec-p256', help: 'ec-p256|rsa-2048' },
    },
    async run(args, io) {
      const { rotateRoot } = await import('../../ca/rotation.ts');
      const r = await userErrors(() => rotateRoot(requireStr(args, 'dir'), { trustDomain: str(args, 'trust-domain'), org: str(args, 'org'), keyType: keyType(str(args, 'key-type')) }));
      io.out(`old root and intermediates archived in ${r.archived}`);
      io.out(`trust bundle (old + new roots): ${r.bundlePath}; clusters re-issued: ${r.clusters.join(', ') || '(none)'}`);
      io.out('next: distribute the bundle, then plug in the new cacerts; see docs/ca-rotation.md');
      return 0;
    },
  },
];
