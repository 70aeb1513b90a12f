package lb.control.config;

/**
 * One real server of a service. There is no MAC here on purpose: lb learns backend MACs with
 * ARP probes on the server-side interface.
 *
 * @param ip     the backend's address as a big-endian number or IPv6 alias (see {@link IpAddresses}).
 * @param port   the port to forward to, or {@link #SAME_PORT} for the service's port.
 * @param weight the share of new flows for weighted schedulers, 0..{@link #MAX_WEIGHT};
 *               0 drains the backend (no new flows, existing flows stay).
 */
public record BackendConfig(int ip, int port, int weight)
{
    /** {@link #port()} value that means "the service's port". */
    public static final int SAME_PORT = 0;

    /** The largest weight, as in IPVS-era configs that use percentages or small ratios. */
    public static final int MAX_WEIGHT = 10_000;

    @Override
    public String toString()
    {
        return "BackendConfig[" + Values.formatBackend(ip, port) +
            " weight " + weight + "]";
    }
}
