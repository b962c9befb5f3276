import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { credentials, credentialsFromEnv, Redactor } from '../../src/push/netconf/credentials.ts';
import { commitOp, editConfigOp, filterXml, getConfigOp } from '../../src/push/netconf/operations.ts';
import { parseHello, parseRpcError, scanDocument, XmlScanError } from '../../src/push/netconf/xml.ts';
import { readFileSync } from 'node:fs';

const fixture = (n: string): string => readFileSync(new URL(`./fixtures/netconf/${n}`, import.meta.url), 'utf8');

describe('reply scanning', () => {
  it('finds message-id, ok, data (verbatim inner XML) with prefixes, comments and CDATA', () => {
    const xml =
      '<?xml version="1.0"?><!-- c --><nc:rpc-reply xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="a&amp;1">' +
      '<nc:data><x a="1>2"><![CDATA[</nc:data>]]></x><!-- </nc:data> --><y/></nc:data></nc:rpc-reply>';
    const d = scanDocument(xml);
    expect(d.root.local).toBe('rpc-reply');
    expect(d.root.attrs['message-id']).toBe('a&1');
    expect(d.children.map((c) => c.local)).toEqual(['data']);
    expect(xml.slice(d.children[0].innerStart, d.children[0].innerEnd)).toBe('<x a="1>2"><![CDATA[</nc:data>]]></x><!-- </nc:data> --><y/>');
  });

  it('rejects mismatched tags and DOCTYPE', () => {
    expect(() => scanDocument('<a><b></a>')).toThrow(XmlScanError);
    expect(() => scanDocument('<!DOCTYPE x><a/>')).toThrow(/DOCTYPE/);
    expect(() => scanDocument('<a>')).toThrow(/not closed/);
  });

  it('parses a netconfd invalid-value rpc-error with path, app-tag and info', () => {
    const xml = fixture('rpc-error-invalid-value.xml');
    const doc = scanDocument(xml);
    const errs = doc.children.filter((c) => c.local === 'rpc-error').map((c) => parseRpcError(xml.slice(c.start, c.end)));
    expect(errs).toEqual([
      {
        type: 'protocol',
        tag: 'invalid-value',
        severity: 'error',
        appTag: 'not-in-range',
        path: "/nc:rpc/nc:edit-config/nc:config/if:interfaces/if:interface[if:name='eth0']/ip:ipv4/ip:mtu",
        message: 'value not in range',
        info: { 'bad-value': '99999999', 'error-number': '288' },
      },
    ]);
  });

  it('parses lock-denied with the holder session id', () => {
    const xml = fixture('rpc-error-lock-denied.xml');
    const el = scanDocument(xml).children.find((c) => c.local === 'rpc-error')!;
    const e = parseRpcError(xml.slice(el.start, el.end));
    expect(e.tag).toBe('lock-denied');
    expect(e.sessionId).toBe(2);
    expect(e.appTag).toBe('no-access');
  });

  it('parses hello capabilities and session-id', () => {
    const h = parseHello(fixture('server-hello.xml'));
    expect(h.sessionId).toBe(1);
    expect(h.capabilities).toContain('urn:ietf:params:netconf:base:1.1');
    expect(h.capabilities).toContain('urn:ietf:params:netconf:capability:confirmed-commit:1.1');
  });
});

describe('operation bodies', () => {
  it('builds RFC 6241 element order for edit-config and commit', () => {
    expect(editConfigOp({ target: 'candidate', config: '<x/>', defaultOperation: 'replace', testOption: 'test-then-set', errorOption: 'rollback-on-error' })).toBe(
      '<edit-config><target><candidate/></target><default-operation>replace</default-operation><test-option>test-then-set</test-option><error-option>rollback-on-error</error-option><config><x/></config></edit-config>',
    );
    expect(commitOp({ confirmed: true, confirmTimeout: 30, persist: 'a<b' })).toBe('<commit><confirmed/><confirm-timeout>30</confirm-timeout><persist>a&lt;b</persist></commit>');
    expect(commitOp()).toBe('<commit/>');
    expect(() => commitOp({ confirmTimeout: 0 })).toThrow(/positive integer/);
    expect(getConfigOp('running', { subtree: '<i xmlns="u"/>' })).toBe('<get-config><source><running/></source><filter type="subtree"><i xmlns="u"/></filter></get-config>');
    expect(filterXml({ xpath: "/if:interfaces/if:interface[if:name='a\"b']", namespaces: { if: 'urn:x' } })).toBe(
      '<filter type="xpath" select="/if:interfaces/if:interface[if:name=\'a&quot;b\']" xmlns:if="urn:x"/>',
    );
  });
});

describe('credentials', () => {
  it('hides secrets from JSON, inspect and enumeration but keeps them usable', () => {
    const c = credentials({ username: 'ops', password: 'hunter2-Secret!', passphrase: 'pp-Secret', privateKeyFile: '/k' });
    expect(c.password).toBe('hunter2-Secret!');
    const shown = JSON.stringify(c) + inspect(c) + Object.keys(c).join(',') + JSON.stringify({ ...c });
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('pp-Secret');
    expect(JSON.stringify(c)).toContain('[redacted]');
  });

  it('reads the environment', () => {
    const c = credentialsFromEnv({ NETLOOM_NETCONF_USERNAME: 'u', NETLOOM_NETCONF_PASSWORD: 'pw-xyz-123', SSH_AUTH_SOCK: '/s' });
    expect(c.username).toBe('u');
    expect(c.password).toBe('pw-xyz-123');
    expect(c.agent).toBeUndefined();
    expect(inspect(c)).not.toContain('pw-xyz-123');
    expect(credentialsFromEnv({ USER: 'me', SSH_AUTH_SOCK: '/s' }).agent).toBe('/s');
  });

  it('redactor removes whole secrets and each line of a multi-line key', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBsecretline\n-----END OPENSSH PRIVATE KEY-----\n';
    const r = new Redactor({ username: 'u', password: 'p@ss w0rd', privateKey: Buffer.from(key) });
    expect(r.redact('auth with p@ss w0rd failed; key QyNTUxOQAAACBsecretline bad')).toBe('auth with [REDACTED] failed; key [REDACTED] bad');
    expect(r.redact('-----BEGIN OPENSSH PRIVATE KEY-----')).toBe('-----BEGIN OPENSSH PRIVATE KEY-----');
  });
});
