// Words for the engine's enums, as the Environment screen shows them.
import type { EndpointSource, ProfileKind } from '../../ipc';

export const profileKindLabel: Record<ProfileKind, string> = {
  AccessKeys: 'Access keys',
  Sso: 'SSO',
  ConsoleSignIn: 'Console sign-in',
  AssumeRole: 'Assume role',
  CredentialProcess: 'Credential process',
  WebIdentity: 'Web identity',
  NoCredentials: 'No credentials',
};

export const endpointSourceLabel: Record<EndpointSource, string> = {
  DockerHostVariable: 'DOCKER_HOST',
  System: 'System socket',
  DockerDesktop: 'Docker Desktop',
  Colima: 'Colima',
  OrbStack: 'OrbStack',
  RancherDesktop: 'Rancher Desktop',
  Podman: 'Podman',
  Rootless: 'Rootless Docker',
};
