import ssh2 from 'ssh2';

const { utils } = ssh2;

/**
 * An ssh2-generated key pair that ssh2 itself can read back. ssh2's generateKeyPairSync
 * writes a malformed OpenSSH ed25519 private key about 3 times in 1,000 (measured: 6 of
 * 2,000), which made a test fail at random in CI; a pair is drawn again until it parses.
 */
export function parseableKeyPair(type: 'ed25519' | 'ecdsa' = 'ed25519'): { private: string; public: string } {
  for (let attempt = 0; attempt < 100; attempt++) {
    const pair = type === 'ecdsa' ? utils.generateKeyPairSync('ecdsa', { bits: 256 }) : utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error('ssh2 produced no readable key pair in 100 attempts');
}
