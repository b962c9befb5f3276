/**
 * netloom's lab driver: runs containerlab topologies for real. With containerlab and a Docker
 * engine present it defers to `containerlab deploy`; otherwise it builds the same topology out
 * of network namespaces, veth pairs and FRR daemons from the host's frr package.
 */
export type { ClabTopology, ClabNodeConfig, ClabLink } from './clab-types.ts';
export { parseClabFile, parseClabText, validateClab, CLAB_SCHEMA_PATH, type ParsedClab } from './clab-parse.ts';
export { planLab, classifyImage, type LabPlan, type PlannedNode, type PlannedLink, type NodeRole } from './plan.ts';
export { getLabState, listLabs, labsRoot, readLabState, findNode, type LabState, type LabNodeState } from './state.ts';
export { labUp, labDown, reclaimOrphanedLabs, type LabUpOptions } from './lifecycle.ts';
export { labStatus, waitConverged, type LabStatus, type NodeStatus, type ExpectedSession, type ConvergeOptions, type ConvergeResult } from './status.ts';
export { labExec, labCapture, vtysh, type ExecResult, type CaptureOptions } from './node-ops.ts';
