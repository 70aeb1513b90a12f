package lb.control.config;

import java.time.Duration;
import java.util.Objects;

/**
 * ARP probing of backends, which both learns their MACs and tells live from dead.
 *
 * @param interval one probe cycle across all backends (as in POX's load balancer: the probes are
 *                 spread over the interval, not all sent at once).
 * @param timeout  how long a probe waits for its reply before the backend counts as down.
 */
public record ProbeConfig(Duration interval, Duration timeout)
{
    /** Rejects nulls. */
    public ProbeConfig
    {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
    }
}
