import { test } from 'vitest';
import { readFileSync } from 'node:fs';
import { startNetconfd } from '../../test/support/netconfd.ts';
import { NetconfSession } from '../../src/push/netconf/index.ts';
test('proto', async () => {
  const srv = await startNetconfd({ name: 'proto' });
  try {
    const s = await NetconfSession.connect({ host: srv.host, port: srv.port, credentials: srv.credentials, hostKey: { knownHostsFile: srv.knownHostsFile } });
    console.log(s.serverCapabilities.filter(c=>/confirmed|with-defaults|candidate/.test(c)));
    let payload = readFileSync('/work/main/test/render/golden/dc1/leaf1/netconf-ietf.xml','utf8').replace(/<!--.*?-->\n?/,'');
    payload = payload.replace('<interfaces ', '<interfaces xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="replace" ');
    await s.lock('candidate');
    const r = await s.editConfig({ target: 'candidate', config: payload });
    console.log('edit', r.ok, r.xml); 
    await s.validate({ source: { config: payload } });
    await s.commit({ confirmed: true, confirmTimeout: 30, persist: 'abc' } as never);
    console.log('committed');
    const s2 = await NetconfSession.connect({ host: srv.host, port: srv.port, credentials: srv.credentials, hostKey: { knownHostsFile: srv.knownHostsFile } });
    const got = await s2.getConfig({ source: 'running', filter: { subtree: '<interfaces xmlns="urn:ietf:params:xml:ns:yang:ietf-interfaces"/>' } }); 
    console.log(got);
    await s.commit({ persistId: 'abc' } as never);
    console.log('confirmed from s2');
    await s.unlock('candidate');
    await s.close(); await s2.close();
  } finally { await srv.stop(); }
}, 60000);
