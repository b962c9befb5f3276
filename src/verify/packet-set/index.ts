export * from './packet-set.ts';
export * from './firewall.ts';
export { STATES } from './layout.ts';
