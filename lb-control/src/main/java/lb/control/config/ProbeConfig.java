package lb.control.config;

import java.time.Duration;
import java.util.Objects;

/**
 * ARP probing of backends, which both learns their MACs and tells live from dead.
 *
 * @param interval one probe cycle across all backends (as in POX's load balancer: the probes are
 *                 spread over the interval, not all sent at once).
 * @param timeout  how long a probe waits for its reply.
 * @param retries  probes sent again at once, each waiting the timeout, when one goes unanswered: a
 *                 backend counts as down only when all of them do, so one lost frame (a full
 *                 ring under overload, a busy backend) does not take it out with its flows.
 */
public record ProbeConfig(Duration interval, Duration timeout, int retries)
{
    /** Most retries one unanswered probe gets. */
    public static final int MAX_RETRIES = 10;

    /** Rejects nulls. */
    public ProbeConfig
    {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** With the default retries. */
    public ProbeConfig(final Duration interval, final Duration timeout)
    {
        this(interval, timeout, Integer.parseInt(ConfigDefaults.PROBE_RETRIES));
    }

    /** @return the longest a dead backend stays up: a cycle, then the probe and each retry waiting the timeout. */
    public Duration detection()
    {
        return interval.plus(timeout.multipliedBy(1L + retries));
    }
}
