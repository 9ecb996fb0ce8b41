/** @tessera/launcher: start, supervise and stop a local tessera cell as separate processes. */
export { startCell, CellStartError, REPO_ROOT, TSX_IMPORT, nodeTsArgs, type CellOptions, type CellHandle, type CellEvent } from './cell.ts';
export { planCell, splitNodes, commonArgs, CellPlanError, DEFAULT_HEARTBEAT_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS, type CellPlanOptions, type PlannedService, type NodeShape } from './plan.ts';
export { Supervised, ServiceStartError, type SupervisedOptions, type LaunchSpec, type Readiness } from './supervised.ts';
export { natsConfigText, writeNatsConfig } from './nats.ts';
export { freePort, natsServerBinary, portOpen } from './ports.ts';
export {
  defaultDataDir, stateFilePath, readStateFile, writeStateFile, isProcessAlive, StateFileError,
  SERVICE_KINDS, SERVICE_STATES, type ServiceKind, type ServiceState, type ServiceInfo, type CellStateFile, type CellRunState,
} from './state-file.ts';
export { stopFromStateFile, type StopReport } from './down.ts';
export {
  generateAuth, prepareCellAuth, identityOfService, agentIdsOf, accountsConfigText, identitiesOf, readAuthFile, credentialsOf, credentialsPath, authDirOf, AuthError,
  type AuthFile, type AuthUser, type AuthPlan, type CellAuth, type CellAuthOptions, type GenerateAuthOptions,
} from './auth.ts';
export { ensureCertificates, TlsError, type TlsFiles, type CertificateOptions } from './tls.ts';
