// An IPv6 anycast gateway needs a link-local address: Linux solicits neighbours for routed
// packets only from one. It is the anycast MAC's modified EUI-64, the same on every leaf.
import { describe, expect, it } from 'vitest';
import { eui64LinkLocal } from '../../src/render/view.ts';
import { loadModelSync } from '../../src/model/index.ts';
import { renderModel } from '../../src/render/index.ts';

describe('IPv6 gateway link-local', () => {
  it('is the modified EUI-64 of the MAC (RFC 4291)', () => {
    expect(eui64LinkLocal('00:00:5e:00:01:01')).toBe('fe80::200:5eff:fe00:101');
    expect(eui64LinkLocal('02:4e:a4:20:67:1a')).toBe('fe80::4e:a4ff:fe20:671a');
  });

  it('is set on every IPv6 gateway of dc1 and on no IPv4-only one', () => {
    const r = renderModel(loadModelSync('intents/dc1'));
    const sh = r.artifacts.find((a) => a.device === 'leaf1' && a.artifact === 'network.sh')!.content;
    expect(sh).toContain('ensure_linklocal gw10 fe80::200:5eff:fe00:101');
    expect(sh).toContain('ensure_linklocal br10 fe80::200:5eff:fe00:101');
    expect(sh).not.toMatch(/ensure_linklocal (gw|br)30 /);
  });
});
