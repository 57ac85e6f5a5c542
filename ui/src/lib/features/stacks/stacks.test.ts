import { describe, expect, it } from 'vitest';
import type { StackOutput, StackSummary } from '../../ipc';
import { grouped, offeredOutputs, stackNameFrom, targetOf, vpcParameter } from './stacks.svelte';
import { splitCommand } from './services.svelte';
import { parameter, template } from './fixtures';


function output(key: string, value: string): StackOutput {
  return { key, value, description: null, exportName: null, kind: 'Text' };
}

function stack(name: string, outputs: StackOutput[]): StackSummary {
  return { name, status: 'CREATE_COMPLETE', state: 'created', description: null, updatedAt: null, outputs };
}

describe('stack names from template files', () => {
  it('takes the file name without its extension', () => {
    expect(stackNameFrom('/home/ana/vendor/tollgate-server.yaml')).toBe('tollgate-server');
    expect(stackNameFrom('C:\\Users\\ana\\agent.template.json')).toBe('agent-template');
  });

  it('makes a name CloudFormation takes of any file name', () => {
    expect(stackNameFrom('/t/2024 server (final).yml')).toBe('server-final');
    expect(stackNameFrom('/t/.yaml')).toBe('stack');
  });
});

describe('the form', () => {
  it('follows the template groups, the rest last, each parameter once', () => {
    const t = template([parameter('A'), parameter('B'), parameter('C')], [
      { label: 'Network', parameters: ['B'] },
      { label: 'Again', parameters: ['B'] },
    ]);
    expect(grouped(t).map((g) => [g.label, g.parameters.map((p) => p.name)])).toEqual([
      ['Network', ['B']],
      ['Other settings', ['A', 'C']],
    ]);
  });

  it('has one untitled group when the template has no groups', () => {
    expect(grouped(template([parameter('A')])).map((g) => g.label)).toEqual([null]);
  });

  it('filters subnets by the VPC parameter', () => {
    const t = template([parameter('Subnets', { picker: 'subnets', list: true }), parameter('Vpc', { picker: 'vpc' })]);
    expect(vpcParameter(t)?.name).toBe('Vpc');
  });

  it("offers another stack's output of the same name, never the stack's own", () => {
    const stacks = [stack('server', [output('ServerUrl', 'http://lb'), output('Other', 'x')]), stack('agent', [output('serverurl', 'own')])];
    expect(offeredOutputs(stacks, 'ServerURL', 'agent')).toEqual([{ stack: 'server', output: output('ServerUrl', 'http://lb') }]);
    expect(offeredOutputs(null, 'ServerUrl', 'agent')).toEqual([]);
  });
});

describe('the account', () => {
  it('names a profile, or leaves the choice to the AWS CLI order', () => {
    expect(targetOf({ profile: 'dev', region: ' eu-west-1 ' })).toEqual({
      source: { kind: 'profile', name: 'dev' },
      region: 'eu-west-1',
      endpointUrl: null,
    });
    expect(targetOf({ profile: null, region: '' }).source).toEqual({ kind: 'default' });
    expect(targetOf({ profile: null, region: '' }).region).toBeNull();
  });
});

describe('a one-off command line', () => {
  it('splits as a shell would', () => {
    expect(splitCommand('echo token-123')).toEqual(['echo', 'token-123']);
    expect(splitCommand(`sh -c 'echo "a b"; exit 3'`)).toEqual(['sh', '-c', 'echo "a b"; exit 3']);
    expect(splitCommand('say "it\\"s" two\\ words ""')).toEqual(['say', 'it"s', 'two words', '']);
    expect(splitCommand('   ')).toEqual([]);
  });

  it('refuses a quote left open', () => {
    expect(splitCommand("echo 'oops")).toBeNull();
  });
});
