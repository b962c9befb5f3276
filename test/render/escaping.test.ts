// Text in a config lands in a syntax (a CLI line, a quoted string, a shell word, XML): a
// hostile string must stay text there. The intent schema keeps free text to one printable line
// (test/intent/broken/69-70); these tests put worse into the model itself (interface
// descriptions, which templates print on every platform) and check each syntax holds.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { XMLValidator, XMLParser } from 'fast-xml-parser';
import { loadModelSync, type FabricModel } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';

const PWN = '/tmp/h11a-netloom-escaping-pwned';
const HOSTILE = `x" ; $(touch ${PWN}) \`touch ${PWN}\` \\ 'q'\ninjected line\r\ninjected too\u2028injected end`;

function withHostileDescriptions(m: FabricModel): FabricModel {
  const c = structuredClone(m);
  for (const d of c.devices) for (const i of d.interfaces) i.description = HOSTILE;
  return c;
}

function artifactsOf(m: FabricModel, device: string) {
  return new Map(renderModel(m, { devices: [device] }).artifacts.map((a) => [a.artifact, a.content]));
}

const lineCount = (s: string) => s.split('\n').length;
const dc1 = loadModelSync('intents/dc1');
const dc2 = loadModelSync('intents/dc2');

// Per platform: a device of it, the artifact with descriptions and how a description line looks.
const cases = [
  { platform: 'frr', model: dc1, device: 'leaf1', artifact: 'frr.conf', line: /^ description (.*)$/ },
  { platform: 'eos', model: dc2, device: 'leaf4', artifact: 'startup-config', line: /^\s+description (.*)$/ },
  { platform: 'nxos', model: dc2, device: 'leaf1', artifact: 'startup-config', line: /^\s+description (.*)$/ },
  { platform: 'junos', model: dc2, device: 'leaf2', artifact: 'config.set', line: /^set .* description "((?:[^"\\]|\\.)*)"$/ },
  { platform: 'srlinux', model: dc2, device: 'leaf3', artifact: 'config.cli', line: /^set .* description "((?:[^"\\]|\\.)*)"$/ },
];

describe('hostile text in rendered configs', () => {
  it.each(cases)('$platform: a description stays one line of text in $artifact', ({ model, device, artifact, line }) => {
    const benign = artifactsOf(model, device).get(artifact)!;
    const hostile = artifactsOf(withHostileDescriptions(model), device).get(artifact)!;
    expect(hostile).toContain('injected line');
    expect(lineCount(hostile)).toBe(lineCount(benign));
    const lines = hostile.split('\n');
    expect(lines.filter((l) => /^\s*injected/.test(l))).toEqual([]);
    // Every line that carries the hostile text is one well-formed description line.
    const carrying = lines.filter((l) => l.includes('injected line'));
    expect(carrying.length).toBeGreaterThan(0);
    for (const l of carrying) expect(l, l).toMatch(line);
  });

  it('frr network.sh: the text is printed, never run', () => {
    rmSync(PWN, { force: true });
    const sh = artifactsOf(withHostileDescriptions(dc1), 'leaf1').get('network.sh')!;
    const benign = artifactsOf(dc1, 'leaf1').get('network.sh')!;
    expect(lineCount(sh)).toBe(lineCount(benign));
    expect(spawnSync('bash', ['-n'], { input: sh }).status).toBe(0);
    // Run each line that carries the text with `exists` failing and `fail` printing its message.
    const carrying = sh.split('\n').filter((l) => l.includes('injected line'));
    expect(carrying.length).toBeGreaterThan(0);
    for (const l of carrying) {
      const r = spawnSync('bash', ['-c', `exists() { return 1; }; fail() { printf '%s' "$1"; }; ${l}`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`$(touch ${PWN})`);
      expect(r.stdout).toContain(`\`touch ${PWN}\``);
    }
    expect(existsSync(PWN)).toBe(false);
  });

  it('netconf-ietf XML: the text is escaped character data', () => {
    const xml = artifactsOf(withHostileDescriptions(dc2), 'leaf1').get('netconf-ietf.xml')!;
    const benign = artifactsOf(dc2, 'leaf1').get('netconf-ietf.xml')!;
    expect(lineCount(xml)).toBe(lineCount(benign));
    // The payload is the children of <config>: several top-level elements.
    expect(XMLValidator.validate(`<config>${xml}</config>`)).toBe(true);
    const descriptions: string[] = [];
    new XMLParser({ processEntities: true, htmlEntities: true, trimValues: false, tagValueProcessor: (name, v) => (name === 'description' && descriptions.push(v), v) }).parse(`<config>${xml}</config>`);
    expect(descriptions.length).toBeGreaterThan(0);
    for (const d of descriptions.filter((x) => x !== 'management default route')) expect(d).toBe(HOSTILE.replace(/[\r\n\u2028]/g, ' '));
    expect(xml).not.toMatch(/<description>[^<]*"/);
  });
});
