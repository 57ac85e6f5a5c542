// The two ways visitors reach the app, as the AWS setup card offers them: a standalone task
// whose public address is new at each deploy (the cheapest), or a service behind a load
// balancer whose address never changes (HTTPS on the user's own domain, more than one task).
// What is allowed is the engine's validation and what each costs is the engine's estimate;
// this keeps the draft options consistent and reads the estimate for the choice's words.
import type { AwsSettings, CostSheet, DnsRecord, PlannedResource } from '../../ipc';
import { formatMoney } from '../cost/money';

export type AddressChoice = 'newEachDeploy' | 'stable';

/** The settings only the stable address allows (the engine refuses them without one). */
export const STABLE_ONLY = ['domain', 'tasks', 'maxTasks', 'cpuTarget', 'requestsTarget', 'stickySeconds'] as const;
export type StableOptions = Pick<AwsSettings, (typeof STABLE_ONLY)[number]>;

export function addressChoice(aws: AwsSettings): AddressChoice {
  return aws.loadBalancer ? 'stable' : 'newEachDeploy';
}

/**
 * Switches the draft `aws` (in place) to `choice`. Leaving the stable address clears what
 * only it allows and returns those values, so choosing it again brings them back;
 * `kept` is what an earlier switch returned.
 */
export function chooseAddress(aws: AwsSettings, choice: AddressChoice, kept: StableOptions | null): StableOptions | null {
  if (choice === 'stable') {
    aws.loadBalancer = true;
    for (const key of STABLE_ONLY) {
      const value = kept?.[key];
      if (value !== null && value !== undefined && (aws[key] ?? null) === null) aws[key] = value as never;
    }
    return null;
  }
  const cleared: StableOptions = {};
  for (const key of STABLE_ONLY) {
    const value = aws[key];
    if (value !== null && value !== undefined) cleared[key] = value as never;
    aws[key] = null;
  }
  aws.loadBalancer = false;
  return Object.keys(cleared).length > 0 ? cleared : kept;
}

/** What the stable address adds to the bill, as the engine priced it. */
export interface StableExtra {
  perMonth: number;
  perHour: number | null;
  /** How the engine reached the figure ("$0.0225 per hour + 1 LCU × …"). */
  detail: string;
}

/** The load balancer's line of an estimate made with one: what the stable address adds. */
export function stableExtra(sheet: CostSheet): StableExtra | null {
  const line = sheet.estimate.lines.find((l) => l.component === 'LoadBalancer');
  if (!line || line.perMonth === null) return null;
  return { perMonth: line.perMonth, perHour: line.perHour, detail: line.detail };
}

/** The stable address's cost in words, or null when the estimate has no figure for it. */
export function stableCostWords(extra: StableExtra | null): string | null {
  if (extra === null) return null;
  const hour = extra.perHour !== null ? ` (${formatMoney(extra.perHour)} an hour)` : '';
  return `Costs about ${formatMoney(extra.perMonth)} a month more${hour} for the load balancer, billed while it exists, even when no task runs.`;
}

/** What one task costs an hour by an estimate: its compute and public address lines, for
 * the tasks it was made for (the load balancer's line is the address's, not a task's). */
export function perTaskHour(sheet: CostSheet | null): number | null {
  if (sheet === null || sheet.inputs.tasks < 1) return null;
  const lines = sheet.estimate.lines.filter((l) => ['Cpu', 'Memory', 'PublicIpv4'].includes(l.component));
  if (lines.length === 0 || lines.some((l) => l.perHour === null)) return null;
  return lines.reduce((sum, l) => sum + (l.perHour ?? 0), 0) / sheet.inputs.tasks;
}

/** The kinds of resource setup adds for the stable address, in the plan's order. */
export const BALANCER_KINDS: readonly PlannedResource['kind'][] = [
  'balancerSecurityGroup',
  'loadBalancer',
  'targetGroup',
  'listener',
  'certificate',
  'dnsRecords',
  'httpsListener',
  'blueGreen',
];

/** AWS's own identifiers in a fact (subnet and VPC ids, a hosted zone's id, an ARN). */
const AWS_ID = /\b(arn:aws|subnet-|vpc-|sg-)|\(Z[0-9A-Z]{6,}\)/;

/** The facts a plain review shows: those without AWS identifiers (the Setup card's details have them all). */
export function plainFacts(resource: PlannedResource): string[] {
  return resource.facts.filter((fact) => !AWS_ID.test(fact));
}

/** A DNS record as one line to read out or paste ("CNAME app.example.com → …"). */
export function recordLine(record: DnsRecord): string {
  return `${record.kind} ${record.name} → ${record.value}`;
}

/** How long sticky sessions keep a visitor on one task, as the setup card offers it. */
export const STICKY_CHOICES = [
  { seconds: 600, label: '10 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 604_800, label: '7 days' },
] as const;

/** The choices, with `seconds` among them when slipway.toml says another duration. */
export function stickyChoices(seconds: number | null): { seconds: number; label: string }[] {
  const choices: { seconds: number; label: string }[] = [...STICKY_CHOICES];
  if (seconds !== null && !choices.some((c) => c.seconds === seconds)) {
    choices.push({ seconds, label: `${seconds} seconds` });
    choices.sort((a, b) => a.seconds - b.seconds);
  }
  return choices;
}

/** How long blue/green keeps the previous release ready, as the setup card offers it. */
export const BAKE_CHOICES = [
  { minutes: 0, label: 'no wait' },
  { minutes: 5, label: '5 minutes' },
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
] as const;

/** The choices, with `minutes` among them when slipway.toml says another bake time. */
export function bakeChoices(minutes: number | null): { minutes: number; label: string }[] {
  const choices: { minutes: number; label: string }[] = [...BAKE_CHOICES];
  if (minutes !== null && !choices.some((c) => c.minutes === minutes)) {
    choices.push({ minutes, label: `${minutes} minutes` });
    choices.sort((a, b) => a.minutes - b.minutes);
  }
  return choices;
}

/**
 * What a blue/green deploy costs beyond a rolling one: the previous release's tasks keep
 * running through the bake time. `perTaskHour` is one task's hourly price (null: unknown).
 */
export function bakeCostWords(perTaskHour: number | null, tasks: number, minutes: number): string {
  if (minutes === 0) return 'The previous release stops as soon as the new one has the visitors.';
  const extra = perTaskHour === null ? null : (perTaskHour * tasks * minutes) / 60;
  const money = extra === null ? '' : ` (about $${extra < 0.01 ? extra.toFixed(4) : extra.toFixed(2)} a deploy)`;
  return `Both releases run for ${minutes} minutes at each deploy${money}.`;
}
