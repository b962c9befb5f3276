/**
 * The one definition of "in CI": `CI` set to anything but empty or `false` (as CI services set
 * it: `true`, `1`, a name). In CI nothing skips: a missing prerequisite makes the test fail.
 */
export const inCI = ((v) => v !== '' && v.toLowerCase() !== 'false')(process.env.CI ?? '');

