// Templates read precompiled (src/render/precompiled.ts) render the same bytes as Handlebars'
// own compile: with escaping and without, through partials used by both kinds of template,
// block params, helpers, and a template that does not compile (the same error).
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { precompiledDir, usePrecompiled } from '../../src/render/precompiled.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';
import { clearTemplateCache } from '../../src/render/templates.ts';

// Unique text per run: the first compile of each template here writes its entry.
const tag = randomUUID();
const partial = `<{{name}} & "{{{name}}}"> ${tag}\n`;
const main = `{{#each items as |it i|}}{{i}}:{{> row name=it}}{{#if (eq it "b")}}B{{/if}}{{/each}}{{upper title}} ${tag}\n`;
const context = { title: 'a<b>&"c"', items: ['a', 'b', '<x y="1">'] };

function env(precompiled: boolean): typeof Handlebars {
  const e = Handlebars.create();
  if (precompiled) usePrecompiled(e);
  e.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  e.registerHelper('upper', (s: string) => s.toUpperCase());
  e.registerPartial('row', partial);
  return e;
}

const render = (e: typeof Handlebars, noEscape: boolean) => e.compile(main, { noEscape, preventIndent: false })(context);

describe('precompiled templates', () => {
  it('render what Handlebars compiles, escaped and not, the first time (written) and the next (read)', () => {
    const before = existsSync(precompiledDir) ? readdirSync(precompiledDir).length : 0;
    for (const noEscape of [true, false]) {
      const expected = render(env(false), noEscape);
      expect(render(env(true), noEscape)).toBe(expected);
      expect(render(env(true), noEscape)).toBe(expected);
    }
    // The two mains and the partial compiled with each one's options.
    expect(readdirSync(precompiledDir).length).toBeGreaterThanOrEqual(Math.min(before + 4, 1024));
    // One environment escaping in one template and not in the other: as Handlebars does (the
    // partial compiled for its first user is kept in the environment).
    for (const first of [true, false]) {
      const [ours, theirs] = [env(true), env(false)];
      expect([render(ours, first), render(ours, !first)]).toEqual([render(theirs, first), render(theirs, !first)]);
    }
  });

  it('a template that does not compile fails as Handlebars says; a torn entry compiles again', () => {
    const bad = `{{#each items}}${tag}`;
    const message = (e: typeof Handlebars) => {
      try {
        e.compile(bad)(context);
      } catch (err) {
        return (err as Error).message;
      }
      return 'rendered';
    };
    expect(message(env(true))).toBe(message(env(false)));
    expect(message(env(false))).not.toBe('rendered');
    // Entries are written whole (renamed into place); one torn by anything else is compiled over.
    const text = `torn ${tag} {{title}}`;
    expect(env(true).compile(text)(context)).toBe(env(false).compile(text)(context));
    const newest = readdirSync(precompiledDir)
      .map((f) => path.join(precompiledDir, f))
      .find((f) => f.endsWith('.json') && readFileSync(f, 'utf8').includes(`torn ${tag}`));
    expect(newest).toBeDefined();
    writeFileSync(newest!, '{"spec": "{\\"main\\": functi');
    expect(env(true).compile(text)(context)).toBe(env(false).compile(text)(context));
  });

  it('renders a fabric the same when its templates are compiled and when they are read back', () => {
    const m = loadModelSync('intents/dc1');
    clearTemplateCache();
    const first = renderModel(m).artifacts;
    clearTemplateCache();
    const again = renderModel(m).artifacts;
    expect(again).toEqual(first);
  });
});
