/**
 * intents/fw2 without its echo rule: the policy at the web, app and db networks then drops
 * every ping to and from them (default drop), while the fabric still routes them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { intentCopy } from './intent-copy.ts';

const ECHO_RULE = '        - name: echo\n          services: [echo]\n          action: accept\n';

export function echoDroppedCopy(third: number, net: string, fabricName = 'fwecho'): { dir: string; cleanup: () => void } {
  const copy = intentCopy('intents/fw2', third, net);
  const fw = path.join(copy.dir, 'firewall.yaml');
  const text = readFileSync(fw, 'utf8');
  if (!text.includes(ECHO_RULE)) throw new Error('intents/fw2/firewall.yaml has no echo rule to remove');
  writeFileSync(fw, text.replace(ECHO_RULE, ''));
  const fabric = path.join(copy.dir, 'fabric.yaml');
  writeFileSync(fabric, readFileSync(fabric, 'utf8').replace(/^(\s+name:\s+)fw2$/m, `$1${fabricName}`));
  return copy;
}
