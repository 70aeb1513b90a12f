/**
 * Backend pools and the schedulers that pick a backend for a new flow.
 * <p>
 * A {@link lb.dataplane.sched.BackendPool} holds the backends of one service and is owned by one
 * dataplane worker (single writer, no locks). Backends are named by an int handle that carries a
 * generation, so a flow that outlives its backend is detected even after the slot is reused. A
 * {@link lb.dataplane.sched.Scheduler} picks among the backends that can take new flows, without
 * allocating; {@link lb.dataplane.sched.SchedulerKind} names the implementations for users.
 */
package lb.dataplane.sched;
