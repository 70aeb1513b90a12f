package lb.dataplane.sched;

/**
 * Picks the backend for a new flow of one service.
 * <p>
 * A scheduler reads its {@link BackendPool} and picks only among backends that
 * {@link BackendPool#canTakeNewFlows(int) can take new flows}. Like its pool it belongs to one
 * worker thread. {@link #pick} never allocates, locks or throws.
 * <p>
 * A scheduler that keeps state derived from the pool (a weighted cycle, a lookup table) compares
 * the pool's {@link BackendPool#version()} with the version it was built from on every pick, so a
 * change can never be missed. The worker calls {@link #refresh()} after applying control commands
 * so that any rebuild happens there rather than on the first pick after the change.
 */
public interface Scheduler
{
    /** Returned by {@link #pick} when no backend can take new flows. */
    int NO_BACKEND = -1;

    /**
     * Picks a backend for a new flow.
     *
     * @param clientIp  the client's IPv4 address as a big-endian number.
     * @param flowHash  a hash of the flow's 5-tuple (any int).
     * @return the handle of a backend that can take new flows, or {@link #NO_BACKEND}.
     */
    int pick(int clientIp, int flowHash);

    /**
     * Brings derived state up to date with the pool if the pool has changed; cheap otherwise.
     */
    void refresh();

    /**
     * @return the pool this scheduler picks from.
     */
    BackendPool pool();

    /**
     * @return which algorithm this is.
     */
    SchedulerKind kind();
}
