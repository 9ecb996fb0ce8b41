export * from './subjects.ts';
export * from './errors.ts';
export * from './codec.ts';
export * from './messages.ts';
export * from './wire.ts';
export * from './fast.ts';
export * from './identity.ts';
export * from './permissions.ts';
