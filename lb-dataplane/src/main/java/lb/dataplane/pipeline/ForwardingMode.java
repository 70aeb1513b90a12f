package lb.dataplane.pipeline;

/**
 * How a service's packets reach its backends.
 * <ul>
 *   <li>{@link #NAT}: two-armed NAT (IPVS-NAT). lb rewrites the destination to the backend and the
 *       replies, which come back through lb, to come from the VIP.</li>
 *   <li>{@link #DSR}: direct server return (IPVS-DR, Maglev). lb rewrites only the MAC addresses;
 *       the backend holds the VIP itself and answers the client directly.</li>
 *   <li>{@link #IPIP}: IP-in-IP tunnel (IPVS-TUN, Katran). lb wraps the client's packet in an outer
 *       IPv4 header to the backend, which unwraps it and answers the client directly.</li>
 * </ul>
 * In the last two lb sees only client-to-server packets ("one-way" flows).
 */
public enum ForwardingMode
{
    NAT("nat"),
    DSR("dsr"),
    IPIP("ipip");

    private static final ForwardingMode[] VALUES = values();

    private final String configName;

    ForwardingMode(final String configName)
    {
        this.configName = configName;
    }

    /** @return the name in config files and on the control socket. */
    public String configName()
    {
        return configName;
    }

    /** @return true when replies bypass lb, so a flow has only its forward entry. */
    public boolean oneWay()
    {
        return this != NAT;
    }

    /** @return the mode with this {@link #ordinal()} (as carried on the command ring), or NAT when out of range. */
    public static ForwardingMode fromOrdinal(final int ordinal)
    {
        return ordinal >= 0 && ordinal < VALUES.length ? VALUES[ordinal] : NAT;
    }
}
