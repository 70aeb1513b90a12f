package lb.control.config;

/**
 * What a dataplane worker does when a duty cycle found no work. The choice trades CPU for latency:
 * {@link #SPIN} burns its core and reacts soonest, {@link #BACKOFF} spins for the configured idle
 * spin (none by default), then sleeps in poll() until a frame arrives (the default: an idle or
 * lightly loaded appliance does not eat a core), {@link #YIELD} always yields.
 */
public enum IdleStrategyKind
{
    BACKOFF,
    SPIN,
    YIELD;

    /** @return the name in the config file and on the command line. */
    public String configName()
    {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
