/**
 * Node lifecycle requests (DESIGN §12: `tessera cordon|uncordon|drain NODE [--deadline S]`), CLI →
 * cell-state on `nodeAdmin`. cell-state writes each as a `lifecycle` record of the commit log, so
 * a cordon or a drain survives restarts and is the same on the standby.
 */
import { z } from 'zod';
import { NODE_CONDITIONS, type NodeCondition } from '@tessera/core';

export const NODE_ADMIN_OPS = ['cordon', 'uncordon', 'drain'] as const;
export type NodeAdminOp = (typeof NODE_ADMIN_OPS)[number];

export const nodeAdminRequest = z.object({
  op: z.enum(NODE_ADMIN_OPS),
  nodes: z.array(z.string().min(1).max(400)).min(1).max(10_000),
  /** drain: how long tasks may go on running before they are stopped and handed back (default 0: at once). */
  deadlineS: z.number().finite().nonnegative().max(7 * 24 * 3600).optional(),
});
export type NodeAdminRequest = z.output<typeof nodeAdminRequest>;

export const nodeAdminReply = z.object({
  ok: z.literal(true),
  /** The nodes after the change, in the order asked. */
  nodes: z.array(z.object({ id: z.string(), state: z.enum(NODE_CONDITIONS as [NodeCondition, ...NodeCondition[]]), tasks: z.number().int().nonnegative() })),
  /** Node ids the cell does not know (nothing was changed for them). */
  unknown: z.array(z.string()),
});
export type NodeAdminReply = z.output<typeof nodeAdminReply>;
