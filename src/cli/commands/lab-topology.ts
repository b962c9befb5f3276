import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from '../command.ts';
import { stringOpt } from '../command.ts';
import { DEFAULT_INTENT_DIR, loadModelSync } from '../../model/index.ts';
import { renderModel } from '../../render/index.ts';
import { writeOutput } from '../../render/write.ts';
import { buildTopology, topologyYaml } from '../../lab/topology-from-model.ts';
import { validateClab } from '../../lab/index.ts';
import { UsageError } from '../../util/errors.ts';
import { intentDirArg } from '../intent-dir.ts';

export const labTopologyCommand: Command = {
  name: 'lab topology',
  summary: 'write the containerlab topology of an intent (and the configs it binds, in configs/ beside it)',
  usage: `netloom lab topology [DIR] --out FILE.clab.yml [--name LAB]   (default ${DEFAULT_INTENT_DIR})`,
  options: {
    out: { type: 'string', arg: 'FILE.clab.yml', help: 'topology file to write (required)' },
    name: { type: 'string', arg: 'LAB', help: 'lab name in the topology (default: the fabric name)' },
  },
  async run(ctx) {
    const out = stringOpt(ctx, 'out');
    if (!out) throw new UsageError('--out FILE.clab.yml is required');
    if (!/\.clab\.ya?ml$/.test(out)) throw new UsageError(`--out must name a .clab.yml file, got '${out}'`);
    const model = loadModelSync(intentDirArg(ctx.positionals[0], 'lab topology'));
    const dir = path.dirname(path.resolve(out));
    mkdirSync(dir, { recursive: true });
    const r = renderModel(model);
    writeOutput(r, path.join(dir, 'configs'));
    const topology = buildTopology(model, { configDir: 'configs', name: stringOpt(ctx, 'name') });
    validateClab(topology);
    writeFileSync(out, topologyYaml(topology, model));
    const nodes = Object.keys(topology.topology.nodes).length;
    ctx.out(`wrote ${out}: ${nodes} nodes (${model.devices.length} devices, ${model.endpoints.length} hosts), ${topology.topology.links?.length ?? 0} links; configs in ${path.join(path.dirname(out), 'configs')}`);
    return 0;
  },
};
