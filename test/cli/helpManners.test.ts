// Every command's --help as kubectl's: the usage line names the command once, every default is shown; and the
// command router finds every command through the area that owns its first word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { areas, loadCommands } from '../../src/cli/commands/index.ts';
import { commandHelp } from '../../src/cli/help.ts';
import { meshfed } from '../helpers/meshfed.ts';

const all = await loadCommands();

test('every usage line names its command once', () => {
  const bad = all.filter((c) => commandHelp(c).split('\n').find((l) => l.startsWith('Usage:'))!.split(`meshfed ${c.path.join(' ')}`).length !== 2);
  assert.deepEqual(bad.map((c) => c.path.join(' ')), []);
});

test('every flag with a default shows it in --help', () => {
  const missing: string[] = [];
  for (const c of all) {
    const help = commandHelp(c);
    for (const [name, f] of Object.entries(c.flags)) {
      if (f.default === undefined || f.default === '' || f.default === false) continue;
      const line = help.split('\n').find((l) => l.trimStart().startsWith(`--${name} `) || l.trimStart().startsWith(`--${name},`));
      if (!line || !line.includes(String(f.default))) missing.push(`${c.path.join(' ')} --${name} (${String(f.default)})`);
    }
  }
  assert.deepEqual(missing, []);
});

test('each command is reached through the area that owns its first word (lazy loading misses none)', async () => {
  for (const c of all) {
    const owner = areas.filter((a) => a.words.includes(c.path[0]!));
    assert.equal(owner.length, 1, `"${c.path[0]}" is owned by ${owner.length} areas`);
    assert.ok((await owner[0]!.load()).includes(c) || (await owner[0]!.load()).some((x) => x.path.join(' ') === c.path.join(' ')), c.path.join(' '));
  }
});

test('bare meshfed prints the help and exits 0; a usage error exits 2 (cluster remove without a name)', async () => {
  const bare = await meshfed([]);
  assert.equal(bare.code, 0);
  assert.match(bare.stdout, /Usage: meshfed <command>/);
  const r = await meshfed(['cluster', 'remove']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cluster remove NAME/);
});
