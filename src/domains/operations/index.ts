/**
 * The operations domain: the `operations:` intent section (intent.ts) - the recovery policy and
 * poll periods `netloom serve` applies to this fabric - resolved into model.domains.operations.
 * It renders, pushes and checks nothing: the service reads it (src/service/policy.ts).
 */
import type { DomainModule } from '../types.ts';
import { operationsIntent, type OperationsIntent } from './intent.ts';
import type { OperationsModel } from './model.ts';
import { operationsSummary, resolveOperations } from './resolve.ts';

export const operations: DomainModule<OperationsModel> = {
  id: 'operations',
  title: 'Operations: the service\'s recovery policy and poll periods',
  requires: ['fabric'],
  intent: operationsIntent,
  resolve: (ctx, intent, model) => resolveOperations(ctx, intent as OperationsIntent, model),
  summary: (model) => operationsSummary(model.domains.operations as OperationsModel | undefined),
  capabilities: {},
  render: { features: () => [], templates: () => [] },
  verify: { static: [] },
};
