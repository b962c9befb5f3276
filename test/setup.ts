// Every test must assert something: a test that returns before its first expect() fails
// instead of passing silently (concurrent tests assert through their context's expect).
import { beforeEach, expect } from 'vitest';

beforeEach(() => {
  expect.hasAssertions();
});
