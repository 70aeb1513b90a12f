package lb.dataplane.sched;

/**
 * Operator-set state of a backend, independent of its health.
 */
public enum AdminState
{
    /** Takes new flows and carries established ones. */
    READY,
    /** Takes no new flows but keeps carrying its established flows until they end. */
    DRAIN,
    /** Out of service: neither new nor established flows are sent to it. */
    MAINT
}
