/**
 * What an intent domain (the fabric, firewall, slb, gslb) contributes to every
 * stage, through one registration in src/domains/index.ts. Stages iterate the registry and
 * never name a domain; a domain reads other domains only through their resolved models.
 *
 * Core (not a domain): nodes, links, interfaces, pools, platforms, push drivers, the rollout
 * engine, the live engine and the report formats. The fabric is the domain whose intent
 * sections are the top level of the intent and whose model is the top level of the model;
 * every later domain is mounted at intent[id] and model.domains[id].
 */
import type { z } from 'zod';
import type { Path } from '../intent/validate.ts';
import type { ClabLink, ClabNodeConfig } from '../lab/clab-types.ts';
import type { ExpectedSession } from '../lab/status.ts';
import type { PlatformDef } from '../model/platforms.ts';
import type { AnnouncedPrefix, ServiceNodeRequest } from '../model/service-nodes.ts';
import type { Packet } from '../verify/packet-set/packet-set.ts';
import type { AnalysisReport, Finding as CaptureFinding } from '../pcap/analyze.ts';
import type { Device, Endpoint, FabricModel } from '../model/types.ts';
import type { PostCheck, WaveCheck } from '../push/driver.ts';
import type { ServiceNodeCheck } from '../push/service-node-checks.ts';
import type { LabState } from '../lab/state.ts';
import type { RequiredFeature } from '../render/features.ts';
import type { DeviceView } from '../render/view.ts';
import type { Diagnostic, SourceLocation } from '../util/errors.ts';
import type { StaticCheck } from '../verify/checks/types.ts';
import type { CheckInfo, CheckResult } from '../verify/findings.ts';
import type { FabricGraph } from '../verify/graph.ts';
import type { LiveTarget } from '../verify/live/run.ts';
import type { TableReads } from '../verify/live/incremental.ts';

/** Registered domains. A new domain adds its id here and one line in DOMAINS. */
export type DomainId = 'fabric' | 'firewall' | 'slb' | 'gslb' | 'compliance' | 'operations';

/**
 * Intent sections of domains that have not landed: accepted (any content), kept verbatim in
 * model.domains[id], ignored by every stage. A domain's id leaves this list when it registers.
 */
export const RESERVED_DOMAINS = [] as const;
export type ReservedDomainId = (typeof RESERVED_DOMAINS)[number];

/** What a domain's resolver may use: errors at intent paths, like the fabric's own resolver. */
export interface DomainResolveContext {
  error(path: Path, message: string, key?: boolean): void;
  at(path: Path, key?: boolean): SourceLocation;
}

export interface DomainModule<M = unknown> {
  id: DomainId;
  /** One line for listings. */
  title: string;
  /** Domains whose models this one reads: they resolve first (a cycle is a startup error). */
  requires: DomainId[];
  /** Domains pushed before this one in a rollout (kept apart from resolve order). */
  pushAfter?: DomainId[];

  /**
   * The zod fragment mounted at intent[id] (types, validation and JSON Schema). Absent for
   * the fabric, whose sections are the intent's top level (src/intent/schema.ts).
   */
  intent?: z.ZodType;
  /**
   * Resolves the domain's section into its part of the model (stored at model.domains[id]),
   * reading other domains only through `model` (resolved in `requires` order). Absent for
   * the fabric, which src/model/resolve.ts resolves as the core.
   */
  resolve?(ctx: DomainResolveContext, intent: unknown, model: FabricModel): M;
  /**
   * The domain's service nodes (src/model/service-nodes.ts), from its resolved model: the core
   * attaches them to their leaves (port, VLANs, eBGP in each VRF) and lists them at
   * model.serviceNodes for render, lab, simulation and live checks.
   */
  serviceNodes?(model: FabricModel, announced: readonly AnnouncedPrefix[]): ServiceNodeRequest[];
  /**
   * Domains whose service nodes are asked for before this one's, so that `announced` holds
   * what they announce (a firewall node routes clients of one VRF to another VRF's VIPs).
   */
  serviceNodesAfter?: DomainId[];
  /** Lines `netloom validate` prints about the domain's part of the model (absent: none). */
  summary?(model: FabricModel): string[];

  /**
   * Capability kinds -> every capability name the domain can require. A platform claims the
   * ones it supports under `capabilities.<id>.<kind>` in models/platforms/<p>.yaml.
   */
  capabilities: Record<string, readonly string[]>;

  render: {
    /** The capabilities a device's configuration needs, each with the intent line asking. */
    features(view: DeviceView, model: FabricModel): RequiredFeature[];
    /** Extra template context, mounted at view[id] (templates include {{> <id>/main}}). */
    view?(view: DeviceView, model: FabricModel): object | undefined;
    /**
     * Template files (relative to templates/<dir>/) a platform claiming any of this domain's
     * capabilities must have; the registry test checks them. Default: partials/<id>/main.hbs.
     */
    templates?(platform: PlatformDef): string[];
    /**
     * Files of the domain's own nodes, which are not fabric devices (load balancers, DNS
     * servers): written to OUT/<node>/<name> and listed in the manifest beside the devices'
     * files (`netloom render`, `render --device <node>`). Diagnostics are what the intent asks
     * of a node that its target cannot express: the render stops on them, as on a device's
     * unsupported features. Node names never equal device names (the domain's resolver checks).
     */
    nodeArtifacts?(model: FabricModel): { artifacts: NodeArtifact[]; diagnostics: NodeDiagnostic[] };
  };

  verify: {
    /** Independent graph questions; ids prefixed '<id>-' (see LEGACY_CHECK_IDS). */
    static: StaticCheck[];
    /**
     * What one of the domain's service nodes does to a packet it routes between its legs (a
     * firewall's verdict); absent or undefined: it forwards everything. The ping predictions
     * and `trace` ask it for paths through the node.
     */
    transitVerdict?(model: FabricModel, node: string, packet: Packet): { action: 'accept' | 'drop' | 'reject'; text: string } | undefined;
    /**
     * What the domain's policies enforced at a pair's own leaves (not on a service node) do to a
     * packet from `src` to `dst` that the fabric forwards as `forwarding`: the first that does not
     * accept, or undefined when none applies. The ping predictions ask it for the echo and its reply.
     */
    pathVerdict?(model: FabricModel, src: Endpoint, dst: Endpoint, forwarding: 'bridged' | 'routed', packet: Packet): { action: 'accept' | 'drop' | 'reject'; text: string } | undefined;
    /** `trace SRC VIP`: what is behind one of the domain's service nodes for that prefix (pools, members). */
    traceService?(model: FabricModel, vip: string, node: string): string[];
    live?: {
      checks: CheckInfo[];
      /** Collects this domain's observed state from the target. */
      collect(target: LiveTarget, model: FabricModel, opts: { probes?: boolean }): Promise<unknown>;
      /** Observed state + model -> one result per live check: pure. */
      compare(model: FabricModel, observed: unknown, fg?: FabricGraph): CheckResult[];
      /**
       * A poller keeping its comparison across polls (the service): each poll collects, and
       * re-parses and re-checks only what changed since the last one; the same results as
       * `collect` then `compare`. `recheck` hears each re-checked device's duration (wall, CPU).
       */
      incremental?(model: FabricModel, fg: FabricGraph, hooks?: { recheck?(device: string, ms: number, cpuMs: number): void; tables?: Partial<TableReads> }): { poll(target: LiveTarget, opts: { probes?: boolean }): Promise<{ observed: unknown; results: CheckResult[]; changed?: string[]; pending?: number; owed?: number; owedDevices?: string[] }> };
      /** The live comparison as a push post-check (after a device's push, before confirm). */
      postCheck?(model: FabricModel): PostCheck;
      /** What `collect` observed, as Prometheus text: `netloom serve` appends it to /metrics after each poll. */
      metrics?(observed: unknown): string;
    };
  };

  lab?: {
    /** Sessions a lab built from the model must reach (lab wait --converged, lab up). */
    expected(model: FabricModel): ExpectedSession[];
    /** Service nodes (load balancer, DNS server...) the lab runs beside the devices. */
    nodes?(model: FabricModel): { nodes: Record<string, ClabNodeConfig>; links: ClabLink[] };
    /**
     * What the lab adds to nodes of the topology (service nodes, endpoints): binds (sources
     * relative to the lab directory) and exec lines; `prepare` writes those sources (test
     * certificates...) into the lab directory before the lab starts.
     */
    provision?(model: FabricModel): LabProvision;
  };

  /** What a decoded capture shows against this domain's model (`pcap analyze --intent DIR`). */
  pcap?: {
    findings(model: FabricModel, report: AnalysisReport): CaptureFinding[];
  };

  push?: {
    /** Post-checks of a pushed device, run before its push is confirmed. */
    postChecks?(model: FabricModel): PostCheck[];
    /** Post-checks of a pushed service node of this domain (beside the core's BGP check). */
    serviceNodeChecks?(model: FabricModel): ServiceNodeCheck[];
    /** Checks of each wave as a whole; `lab` when the target is a running lab (endpoint probes). */
    waveChecks?(model: FabricModel, target: { lab?: LabState }): WaveCheck[];
  };
}

export interface LabProvision {
  binds: Record<string, string[]>;
  exec: Record<string, string[]>;
  /**
   * Ports the exec'd processes listen on, per node (`tcp/8080`): taken, so another domain's
   * probes connect to them instead of starting a listener of their own there.
   */
  serves?: Record<string, string[]>;
  prepare?(labDir: string): void;
}

/** What a domain node's target cannot express, with the node it concerns. */
export interface NodeDiagnostic extends Diagnostic {
  node: string;
}

/** One file of a domain's node (render.nodeArtifacts): the engine adds header, hash and mode. */
export interface NodeArtifact {
  node: string;
  /** What the file is for (haproxy, nginx, f5-as3): the manifest's platform column. */
  target: string;
  /** File name under OUT/<node>/. */
  name: string;
  content: string;
  /** Header comment syntax as for platform artifacts; null when the format has none (JSON). */
  comment: string | [string, string] | null;
  mode?: string;
}

/** A device's feature list as the registry sees it: which domain asks for what. */
export interface DomainFeature extends RequiredFeature {
  domain: DomainId;
}

export type { Device };
