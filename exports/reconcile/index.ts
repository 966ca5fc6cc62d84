/** The NFS side as a reconciler: registry, state directories and export table compared and repaired. */
export { planReconcile, needsStateDir, type Lack, type NodeLack, type ReconcilePlan, type ReconcileView } from './plan.js';
export { Reconciler, type NodeProblem, type ReconcileCheck, type ReconcileReport, type ReconcileTrigger, type ReconcilerOptions } from './reconciler.js';
