import type { Command } from '../command.ts';
import { renderCommand } from './render.ts';
import { validateCommand } from './validate.ts';
import { modelCommand } from './model.ts';
import { schemaCommand } from './schema.ts';
import { genCommand } from './gen.ts';
import { pipelineCommand } from './pipeline.ts';
import { labUpCommand } from './lab-up.ts';
import { labDownCommand } from './lab-down.ts';
import { labStatusCommand } from './lab-status.ts';
import { labWaitCommand } from './lab-wait.ts';
import { labExecCommand } from './lab-exec.ts';
import { labCaptureCommand } from './lab-capture.ts';
import { labTopologyCommand } from './lab-topology.ts';
import { labListenCommand, labProbeCommand } from './lab-listen.ts';
import { pcapAnalyze } from './pcap-analyze.ts';
import { applyCommand } from './apply.ts';
import { verifyCommand } from './verify.ts';
import { traceCommand } from './trace.ts';
import { fidelityCommand } from './fidelity.ts';
import { fwDiffCommand, fwQueryCommand, fwSearchCommand } from './fw.ts';
import { planCommand } from './plan.ts';
import { gslbQueryCommand } from './gslb.ts';
import { serveCommand } from './serve.ts';

/** Every CLI command; each stage adds its own module here (one line per command). */
export const commands: Command[] = [
  renderCommand,
  labUpCommand,
  labDownCommand,
  labStatusCommand,
  labWaitCommand,
  labExecCommand,
  labCaptureCommand,
  labTopologyCommand,
  labListenCommand,
  labProbeCommand,
  validateCommand,
  modelCommand,
  schemaCommand,
  genCommand,
  pipelineCommand,
  pcapAnalyze,
  applyCommand,
  verifyCommand,
  traceCommand,
  fidelityCommand,
  fwQueryCommand,
  fwSearchCommand,
  fwDiffCommand,
  planCommand,
  gslbQueryCommand,
  serveCommand,
];
