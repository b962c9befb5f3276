/**
 * The parts of k8gb's Gslb CRD (k8gb.absa.oss/v1beta1, chart/k8gb/crd/k8gb.absa.oss_gslbs.yaml
 * of k8gb-io/k8gb, read for this test) that netloom's resources use, restated as a JSON Schema
 * for ajv: required fields, types, strategy types, and no field the CRD does not define (the
 * API server would prune it silently, so an unknown field is a rendering bug).
 */
const obj = (properties: Record<string, object>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });
const str = { type: 'string' };
const int = { type: 'integer' };

const serviceBackend = obj({ name: str, port: obj({ name: str, number: int }) }, ['name']);

export const k8gbGslbSchema = obj(
  {
    apiVersion: { const: 'k8gb.absa.oss/v1beta1' },
    kind: { const: 'Gslb' },
    metadata: obj({ name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }, namespace: str }, ['name']),
    spec: obj(
      {
        ingress: obj({
          ingressClassName: str,
          rules: {
            type: 'array',
            items: obj({ host: str, http: obj({ paths: { type: 'array', items: obj({ path: str, pathType: { enum: ['Exact', 'Prefix', 'ImplementationSpecific'] }, backend: obj({ service: serviceBackend }) }, ['backend', 'pathType']) } }, ['paths']) }, ['http']),
          },
        }),
        strategy: obj(
          { type: { enum: ['roundRobin', 'failover'] }, dnsTtlSeconds: int, primaryGeoTag: str, splitBrainThresholdSeconds: int, weight: { type: 'object', additionalProperties: int } },
          ['type'],
        ),
      },
      ['strategy'],
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);
