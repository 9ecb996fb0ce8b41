/**
 * @tessera/workloads: the real traces (google2011, alibaba2017, alibaba_gpu2023) and tessera's own
 * job files → validated job specs with submit times; machine files → node registrations; demand,
 * time scaling and empirical sampling for experiments. Mapping rules: workloads/README.md.
 */
export * from './types.ts';
export * from './shapes.ts';
export { convertRecord, detectFormat, taskDurationS, type ConvertContext, type ConvertOptions, type ConvertResult, type GroupSkip } from './convert.ts';
export { google2011TaskRunS } from './google2011.ts';
export { GPU_MODEL_LABEL } from './alibabaGpu2023.ts';
export {
  TraceReadError,
  TraceReader,
  readTrace,
  readRecords,
  loadTrace,
  fileLayout,
  fileRecords,
  documentRecords,
  jsonLineRecords,
  isGzipFile,
  type ReadTraceOptions,
  type FileLayout,
  type SourceRecord,
} from './reader.ts';
export * from './machines.ts';
export * from './demand.ts';
export * from './distribution.ts';
export * from './paths.ts';
export * from './tenants.ts';
