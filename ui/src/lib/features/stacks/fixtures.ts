// Templates and parameters for the stacks screen's tests, in the engine's shapes.
import type { Parameter, Template } from '../../ipc';

export function parameter(name: string, extra: Partial<Parameter> = {}): Parameter {
  return {
    name,
    kind: 'String',
    list: false,
    label: null,
    description: null,
    default: null,
    allowedValues: [],
    allowedPattern: null,
    minLength: null,
    maxLength: null,
    minValue: null,
    maxValue: null,
    noEcho: false,
    constraintDescription: null,
    picker: null,
    ...extra,
  };
}

export function template(parameters: Parameter[], groups: Template['groups'] = []): Template {
  return { description: null, parameters, groups, resources: [], iam: [], outputs: [], transforms: [], capabilities: [] };
}
