// The settings form's pure rules: where each validation problem belongs, which memory
// sizes go with a CPU setting, how a health probe is edited, and whether two configs differ.
// The rules themselves (names, ranges, task sizes) are the engine's; nothing here repeats them.
import type { AwsSettings, FieldProblem, HealthProbe, KeyValue, ProjectConfig, TaskSizeOption } from '../../ipc';

/** The form's key-value tables, by the name slipway.toml gives their section. */
export const ROW_SECTIONS = { env: 'env', buildArgs: 'build_args', secrets: 'secrets' } as const;
export type RowSection = keyof typeof ROW_SECTIONS;

/** Fields the form shows one input for, named as in slipway.toml (and in FieldProblem). */
export const FORM_FIELDS = [
  'name',
  'image',
  'dockerfile',
  'context',
  'target',
  'platform',
  'port',
  'health.path',
  'health.command',
  'health.interval',
  'health.timeout',
  'health.retries',
  'health.start_period',
  'task.cpu',
  'task.memory',
  'aws.profile',
  'aws.region',
  // Edited on the AWS setup card rather than in the settings form.
  'aws.vpc',
  'aws.allow_from',
  'aws.log_retention_days',
  'aws.load_balancer',
  'aws.domain',
  'aws.tasks',
  'aws.sticky_seconds',
  // aws.max_tasks, aws.cpu_target and aws.requests_target are changed by the Status card's
  // scale control, which shows the engine's refusal there; a problem in a hand-edited file
  // is listed with the form's other problems.
] as const;
export type FormField = (typeof FORM_FIELDS)[number];

export interface PlacedProblems {
  fields: Partial<Record<FormField, string[]>>;
  /** Per section, the messages for each row by index. */
  rows: Record<RowSection, string[][]>;
  /** Problems no field or row on the form owns; shown together so none is lost. */
  other: FieldProblem[];
}

/**
 * Puts each problem next to what it is about: `task.memory` by the memory select,
 * `env.API_KEY` by every row named API_KEY, `env[2]` by the second row (1-based, as the
 * engine names unnamed rows).
 */
export function placeProblems(problems: FieldProblem[], config: ProjectConfig): PlacedProblems {
  const placed: PlacedProblems = { fields: {}, rows: { env: [], buildArgs: [], secrets: [] }, other: [] };
  for (const problem of problems) {
    if ((FORM_FIELDS as readonly string[]).includes(problem.field)) {
      const field = problem.field as FormField;
      (placed.fields[field] ??= []).push(problem.message);
      continue;
    }
    const rows = rowsFor(problem.field, config);
    if (rows === null || rows.indexes.length === 0) {
      placed.other.push(problem);
      continue;
    }
    const table = placed.rows[rows.section];
    for (const index of rows.indexes) (table[index] ??= []).push(problem.message);
  }
  return placed;
}

function rowsFor(field: string, config: ProjectConfig): { section: RowSection; indexes: number[] } | null {
  for (const [section, prefix] of Object.entries(ROW_SECTIONS) as [RowSection, string][]) {
    const pairs: KeyValue[] = config[section];
    if (field.startsWith(`${prefix}[`) && field.endsWith(']')) {
      const position = Number(field.slice(prefix.length + 1, -1));
      return { section, indexes: Number.isInteger(position) && position >= 1 && position <= pairs.length ? [position - 1] : [] };
    }
    if (field.startsWith(`${prefix}.`)) {
      const name = field.slice(prefix.length + 1);
      const indexes = pairs.flatMap((pair, index) => (pair.name === name ? [index] : []));
      return { section, indexes };
    }
  }
  return null;
}

/** Memory sizes Fargate accepts with `cpu`; empty for a CPU setting it does not offer. */
export function memoriesFor(options: TaskSizeOption[], cpu: number): number[] {
  return options.find((o) => o.cpu === cpu)?.memories ?? [];
}

/** After a CPU change: the memory kept when it still fits, else the smallest that does. */
export function memoryAfterCpuChange(options: TaskSizeOption[], cpu: number, memory: number): number {
  const valid = memoriesFor(options, cpu);
  return valid.length === 0 || valid.includes(memory) ? memory : valid[0];
}

/**
 * The memory select's choices: first the sizes that go with `cpu`, then every other size
 * Fargate has (picking one of those means changing the CPU too, which validation says).
 * The current value is always offered, so a hand-edited file is shown as it is.
 */
export function memoryChoices(options: TaskSizeOption[], cpu: number, current: number): { fits: number[]; others: number[] } {
  const fits = memoriesFor(options, cpu);
  const all = new Set(options.flatMap((o) => o.memories));
  all.add(current);
  const others = [...all].filter((m) => !fits.includes(m)).sort((a, b) => a - b);
  return { fits, others };
}

export function cpuLabel(cpu: number): string {
  return `${cpu / 1024} vCPU`;
}

export function memoryLabel(mib: number): string {
  return mib % 512 === 0 ? `${mib / 1024} GB` : `${mib} MiB`;
}

export type ProbeKind = HealthProbe['kind'];

/** The one line the form shows for a command probe ("CMD-SHELL" and its shell line). */
export function commandLine(probe: HealthProbe): string {
  if (probe.kind !== 'command') return '';
  const [first, ...rest] = probe.command;
  return first === 'CMD-SHELL' || first === 'CMD' ? rest.join(' ') : probe.command.join(' ');
}

/** A command probe from the line typed in the form, run by the container's shell. */
export function shellProbe(line: string): HealthProbe {
  return { kind: 'command', command: ['CMD-SHELL', line] };
}

/** Two configs are the same settings regardless of key order. */
export function sameConfig(a: ProjectConfig, b: ProjectConfig): boolean {
  return canonical({ ...a, aws: plainAws(a.aws) }) === canonical({ ...b, aws: plainAws(b.aws) });
}

/** Two `[aws]` sections are the same settings regardless of key order. */
export function sameAws(a: AwsSettings, b: AwsSettings): boolean {
  return canonical(plainAws(a)) === canonical(plainAws(b));
}

/**
 * The `[aws]` section with its unset settings left out: the engine writes `null` for an
 * optional setting it has no value for (and `false` for no load balancer), where a form or
 * an older file has no key at all; both mean the same.
 */
function plainAws(aws: AwsSettings): Partial<AwsSettings> {
  return Object.fromEntries(
    Object.entries(aws).filter(([key, value]) => value !== null && value !== undefined && !(key === 'loadBalancer' && value === false)),
  );
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)))
      : v,
  );
}
