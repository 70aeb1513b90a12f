package lb.control.config;

/**
 * What a dataplane worker does when a duty cycle found no work. The choice trades CPU for latency:
 * {@link #SPIN} burns its core and reacts soonest, {@link #BACKOFF} spins briefly, then yields,
 * then parks (the default: an idle appliance does not eat a core), {@link #YIELD} always yields.
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
